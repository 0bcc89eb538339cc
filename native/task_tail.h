// Whether a thread was born since a moment, for the price of three system calls.
//
// The kernel appends a new thread at the end of the thread list, in the order /proc/self/task
// lists it. So if the thread that was last at some moment is still last now, every thread born
// since that moment has exited again. A capability window (native/capset.cc) remembers the last
// thread from before it raised anything and asks, when it closes, whether that thread is still
// last: only when it is not does it broadcast to find the threads born meanwhile.
//
// A tail is a thread id and the inode number /proc gave its directory (a new thread that
// reused the id would get another one). The reads go through a descriptor opened once and kept
// (before a chroot, by WindowsHeld), one reader at a time; every read runs to the end of the
// directory, so the kernel keeps no half-read position between two reads.
#pragma once

#include <cstdint>

namespace privdrop {

struct TaskTail {
  bool valid = false;
  int index = 0;     // its position in the list when it was read
  int tid = 0;
  uint64_t ino = 0;
};

// Opens the two kept /proc/self/task descriptors if they are not open yet. Returns 0 or errno.
int OpenTaskDirs();
// The descriptor the broadcast of a window uses (its own: it reads while others may read tails).
int SweepTaskDir();
// A thread that was last when it was read (it may have exited since): the one remembered from
// the last read, or (fresh, or none remembered) the last thread now, read and remembered. Returns 0 or an
// errno value (ETIMEDOUT: another reader held on too long).
int ReadTail(TaskTail* out, bool fresh = false);
// Whether `tail` is still the last thread. False when it is not, or when that cannot be read.
bool StillLast(const TaskTail& tail);

}  // namespace privdrop
