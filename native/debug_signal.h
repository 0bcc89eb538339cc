// Node's signal-opened debugger. At start-up Node installs a SIGUSR1 handler that starts the
// inspector (127.0.0.1:9229 by default, no authentication; src/inspector_agent.cc
// StartDebugSignalHandler, not installed with --disable-sigusr1). Once the drop changes a
// thread's uid, any process of the target user may send that signal (docs/design.md, "Signal
// doors"), so the drop ignores it first, unless keepDebugSignals.
#pragma once

namespace privdrop {

// Sets SIGUSR1 to SIG_IGN if a handler is installed: Node's, since the caller checked that no
// JavaScript listener (libuv's handler) is. SIG_DFL and SIG_IGN stay as they are. `closed` says
// whether it changed anything. Returns 0, or sigaction's errno (only an invalid argument can be).
int CloseDebugSignal(bool* closed);

// Before execve: SIGUSR1 back to SIG_DFL if CloseDebugSignal() ignored it. An ignored signal
// stays ignored across execve, a handled one becomes SIG_DFL: COMMAND starts as an exec from
// Node would have started it.
void ResetDebugSignalForExec();

}  // namespace privdrop
