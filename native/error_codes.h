// Every error code the native code throws, each once: throw sites name these constants,
// never a string literal. lib/errors/index.ts ErrorCodes has each one (test/errors/codes.test.ts
// compares the two lists, and finds no other such string literal in native/).
#pragma once

namespace privdrop {

inline constexpr char kErrCapabilityNotHeld[] = "ERR_PRIVDROP_CAPABILITY_NOT_HELD";
inline constexpr char kErrCommandNotFound[] = "ERR_PRIVDROP_COMMAND_NOT_FOUND";
inline constexpr char kErrExecFailed[] = "ERR_PRIVDROP_EXEC_FAILED";
inline constexpr char kErrInconsistentThreads[] = "ERR_PRIVDROP_INCONSISTENT_THREADS";
inline constexpr char kErrInvalidArgument[] = "ERR_PRIVDROP_INVALID_ARGUMENT";
inline constexpr char kErrInvalidCapabilities[] = "ERR_PRIVDROP_INVALID_CAPABILITIES";
inline constexpr char kErrInvalidChroot[] = "ERR_PRIVDROP_INVALID_CHROOT";
inline constexpr char kErrNotMainThread[] = "ERR_PRIVDROP_NOT_MAIN_THREAD";
inline constexpr char kErrNotPermitted[] = "ERR_PRIVDROP_NOT_PERMITTED";
inline constexpr char kErrSystem[] = "ERR_PRIVDROP_SYSTEM";
inline constexpr char kErrThreadUnreachable[] = "ERR_PRIVDROP_THREAD_UNREACHABLE";
inline constexpr char kErrUnsupportedPlatform[] = "ERR_PRIVDROP_UNSUPPORTED_PLATFORM";

}  // namespace privdrop
