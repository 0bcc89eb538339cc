// placeholder until the broadcast lands
#include "broadcast.h"
namespace privdrop {
BroadcastReport Broadcast(ThreadOp, const void*, int) { BroadcastReport r; r.err = 38; return r; }
}
