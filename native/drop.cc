// placeholder until the drop lands
#include "drop.h"
#include "error.h"
namespace privdrop {
DropResult Drop(const DropPlan&) { throw Error("ERR_PRIVDROP_NOT_IMPLEMENTED", "not implemented yet"); }
BroadcastTiming ProbeBroadcast() { throw Error("ERR_PRIVDROP_NOT_IMPLEMENTED", "not implemented yet"); }
BroadcastTiming GlibcSetgroupsBroadcast() { throw Error("ERR_PRIVDROP_NOT_IMPLEMENTED", "not implemented yet"); }
}
