// The only file that knows about Node: converts arguments and results, nothing else.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "caps.h"
#include "capset.h"
#include "drop.h"
#include "error.h"
#include "exec.h"
#include "filecaps.h"
#include "identity.h"
#include "listen.h"
#include "platform.h"
#include "probes.h"
#include "session.h"

namespace {

using privdrop::CapMasks;

struct AddonData {
  Napi::FunctionReference errorFactory;
};

// Throws the JavaScript PrivdropError made by the factory lib/ registered.
[[noreturn]] void ThrowCoded(Napi::Env env, const std::string& code,
                             const std::string& message, int err = 0,
                             const std::string& syscall = "",
                             const std::string& step = "") {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data == nullptr || data->errorFactory.IsEmpty()) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", Napi::String::New(env, code));
    throw e;
  }
  Napi::Value made = data->errorFactory.Call(
      {Napi::String::New(env, code), Napi::String::New(env, message),
       Napi::Number::New(env, err), Napi::String::New(env, syscall),
       Napi::String::New(env, step)});
  throw Napi::Error(env, made);
}

[[noreturn]] void ThrowFrom(Napi::Env env, const privdrop::Error& e) {
  ThrowCoded(env, e.code(), e.what(), e.err(), e.syscall(), e.step());
}

// `step`: set for the drop's plan ('validate'), whose every refusal names its step.
[[noreturn]] void ThrowArg(Napi::Env env, const std::string& message, const char* step = "") {
  ThrowCoded(env, privdrop::kErrInvalidArgument, message, 0, "", step);
}

// Runs fn, converting a privdrop::Error into the JavaScript error class.
template <typename Fn>
auto Guard(Napi::Env env, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const privdrop::Error& e) {
    ThrowFrom(env, e);
  } catch (const std::bad_alloc&) {
    ThrowCoded(env, privdrop::kErrSystem, "out of memory", ENOMEM);
  }
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) ThrowArg(info.Env(), std::string(what) + " must be a string");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) ThrowArg(info.Env(), std::string(what) + " must not contain NUL bytes");
  return s;
}

uint32_t U32(Napi::Env env, Napi::Value v, const char* what, const char* step = "") {
  if (!v.IsNumber()) ThrowArg(env, std::string(what) + " must be a number", step);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967294.0 || d != static_cast<double>(static_cast<uint64_t>(d)))
    ThrowArg(env, std::string(what) + " must be an integer from 0 to 4294967294", step);
  return static_cast<uint32_t>(d);
}

int32_t I32(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsNumber()) ThrowArg(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > std::numeric_limits<int32_t>::max() || d != static_cast<double>(static_cast<int64_t>(d)))
    ThrowArg(env, std::string(what) + " must be a non-negative 32-bit integer");
  return static_cast<int32_t>(d);
}

bool BoolProp(Napi::Object o, const char* key, const char* step = "") {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) ThrowArg(o.Env(), std::string(key) + " must be a boolean", step);
  return v.As<Napi::Boolean>().Value();
}

// `prefix` names the object in messages ("capabilities." for the drop's plan).
uint64_t MaskOf(Napi::Object o, const char* key, const char* prefix = "", const char* step = "") {
  Napi::Value v = o.Get(key);
  if (!v.IsBigInt()) ThrowArg(o.Env(), std::string(prefix) + key + " must be a bigint", step);
  bool lossless = false;
  uint64_t m = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowArg(o.Env(), std::string(prefix) + key + " must fit in 64 bits", step);
  return m;
}

CapMasks MasksOf(Napi::Object o, const char* prefix = "", const char* step = "") {
  CapMasks m;
  m.effective = MaskOf(o, "effective", prefix, step);
  m.permitted = MaskOf(o, "permitted", prefix, step);
  m.inheritable = MaskOf(o, "inheritable", prefix, step);
  return m;
}

CapMasks MasksArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsObject()) ThrowArg(info.Env(), "masks must be an object");
  return MasksOf(info[i].As<Napi::Object>());
}

Napi::Object MasksToJs(Napi::Env env, const CapMasks& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("effective", Napi::BigInt::New(env, m.effective));
  o.Set("permitted", Napi::BigInt::New(env, m.permitted));
  o.Set("inheritable", Napi::BigInt::New(env, m.inheritable));
  return o;
}

std::vector<std::string> StringArray(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsArray()) ThrowArg(env, std::string(what) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) ThrowArg(env, std::string(what) + " must be an array of strings");
    std::string s = e.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) ThrowArg(env, std::string(what) + " must not contain NUL bytes");
    out.push_back(std::move(s));
  }
  return out;
}

// ---- exports ---------------------------------------------------------------------------

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowArg(info.Env(), "factory must be a function");
  info.Env().GetInstanceData<AddonData>()->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value PlatformJs(const Napi::CallbackInfo& info) {
  privdrop::PlatformInfo p = privdrop::Platform();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("glibc", p.glibc);
  o.Set("libcVersion", p.libcVersion);
  o.Set("arch", p.arch);
  o.Set("broadcastSupported", p.broadcastSupported);
  return o;
}

Napi::Value GetTidJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), privdrop::GetTid()); }
Napi::Value IsMainThreadJs(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), privdrop::IsMainThread()); }
Napi::Value GetSecurebitsJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(privdrop::GetSecurebits()));
}

Napi::Value CapMaxBitsJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), privdrop::CapMaxBits()); }

Napi::Value CapNameJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "index is required");
  uint32_t i = U32(env, info[0], "index");
  if (i >= 64) ThrowArg(env, "index must be below 64");
  return Guard(env, [&] { return Napi::String::New(env, privdrop::CapName(i)); });
}

Napi::Value CapFromTextJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string text = StringArg(info, 0, "text");
  return Guard(env, [&] { return MasksToJs(env, privdrop::CapsFromText(text)); });
}

Napi::Value CapToTextJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CapMasks m = MasksArg(info, 0);
  return Guard(env, [&] { return Napi::String::New(env, privdrop::CapsToText(m)); });
}

Napi::Value CapGetProcJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&] { return MasksToJs(env, privdrop::CapsOfCurrentThread()); });
}

Napi::Value CapGetPidJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "pid is required");
  int32_t pid = I32(env, info[0], "pid");
  return Guard(env, [&] { return MasksToJs(env, privdrop::CapsOfProcess(pid)); });
}

Napi::Value CapSetProcJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CapMasks m = MasksArg(info, 0);
  Guard(env, [&] { privdrop::SetCapsOfCurrentThread(m); return 0; });
  return env.Undefined();
}

Napi::Value UserToJs(Napi::Env env, const privdrop::UserEntry& u) {
  if (!u.found) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", u.name);
  o.Set("uid", Napi::Number::New(env, u.uid));
  o.Set("gid", Napi::Number::New(env, u.gid));
  o.Set("dir", u.dir);
  o.Set("shell", u.shell);
  return o;
}

Napi::Value GroupToJs(Napi::Env env, const privdrop::GroupEntry& g) {
  if (!g.found) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", g.name);
  o.Set("gid", Napi::Number::New(env, g.gid));
  return o;
}

Napi::Value LookupUserJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "user is required");
  if (info[0].IsNumber()) {
    uint32_t uid = U32(env, info[0], "uid");
    return Guard(env, [&] { return UserToJs(env, privdrop::LookupUserById(uid)); });
  }
  std::string name = StringArg(info, 0, "user");
  return Guard(env, [&] { return UserToJs(env, privdrop::LookupUserByName(name)); });
}

Napi::Value LookupGroupJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowArg(env, "group is required");
  if (info[0].IsNumber()) {
    uint32_t gid = U32(env, info[0], "gid");
    return Guard(env, [&] { return GroupToJs(env, privdrop::LookupGroupById(gid)); });
  }
  std::string name = StringArg(info, 0, "group");
  return Guard(env, [&] { return GroupToJs(env, privdrop::LookupGroupByName(name)); });
}

Napi::Value GroupListJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string user = StringArg(info, 0, "user");
  if (info.Length() < 2) ThrowArg(env, "gid is required");
  uint32_t gid = U32(env, info[1], "gid");
  std::vector<uint32_t> groups = Guard(env, [&] { return privdrop::GroupListOf(user, gid); });
  Napi::Array a = Napi::Array::New(env, groups.size());
  for (size_t i = 0; i < groups.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, groups[i]));
  return a;
}

Napi::Object TimingToJs(Napi::Env env, const privdrop::StepTiming& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", t.name);
  o.Set("ms", Napi::Number::New(env, t.ms));
  o.Set("threads", Napi::Number::New(env, t.threads));
  return o;
}

Napi::Array TimingsToJs(Napi::Env env, const std::vector<privdrop::StepTiming>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), TimingToJs(env, v[i]));
  return a;
}

// The plan's field names are the TypeScript options' names (lib/addon/binding.ts RawPlan).
// Its argument errors come before anything is changed: step 'validate'.
Napi::Value DropJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Every refusal here names the step 'validate', as lib/'s do.
  const char* step = privdrop::kStepValidate;
  auto invalid = [&](const std::string& message) { ThrowArg(env, message, step); };
  if (info.Length() < 1 || !info[0].IsObject()) invalid("plan must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  privdrop::DropPlan plan;
  plan.uid = U32(env, o.Get("uid"), "uid", step);
  plan.gid = U32(env, o.Get("gid"), "gid", step);
  Napi::Value groups = o.Get("groups");
  if (!groups.IsArray()) invalid("groups must be an array");
  Napi::Array ga = groups.As<Napi::Array>();
  for (uint32_t i = 0; i < ga.Length(); i++) plan.groups.push_back(U32(env, ga.Get(i), "groups[]", step));
  Napi::Value caps = o.Get("capabilities");
  if (!caps.IsObject()) invalid("capabilities must be an object of masks");
  plan.capabilities = MasksOf(caps.As<Napi::Object>(), "capabilities.", step);
  Napi::Value bounding = o.Get("boundingSet");
  std::string b = bounding.IsString() ? bounding.As<Napi::String>().Utf8Value() : "";
  if (b == "retained") plan.boundingSet = privdrop::DropPlan::BoundingSet::Retained;
  else if (b == "unchanged") plan.boundingSet = privdrop::DropPlan::BoundingSet::Unchanged;
  else invalid("boundingSet must be 'retained' or 'unchanged'");
  plan.ambient = BoolProp(o, "ambient", step);
  plan.noNewPrivileges = BoolProp(o, "noNewPrivileges", step);
  plan.lockSecurebits = BoolProp(o, "lockSecurebits", step);
  Napi::Value chroot = o.Get("chroot");
  if (!chroot.IsString()) invalid("chroot must be a string");
  plan.chroot = chroot.As<Napi::String>().Utf8Value();
  if (plan.chroot.find('\0') != std::string::npos) invalid("chroot must not contain NUL bytes");
  // Optional: false when absent.
  if (!o.Get("closeDebugSignal").IsUndefined()) plan.closeDebugSignal = BoolProp(o, "closeDebugSignal", step);

  privdrop::DropResult r = Guard(env, [&] {
    privdrop::WindowsHeld held("dropPrivileges()");  // its verification must not meet a thread inside a window
    return privdrop::Drop(plan);
  });
  Napi::Object out = Napi::Object::New(env);
  out.Set("threads", Napi::Number::New(env, r.threads));
  out.Set("ms", Napi::Number::New(env, r.ms));
  out.Set("regainChecked", Napi::Boolean::New(env, r.regainChecked));
  out.Set("debugSignalClosed", Napi::Boolean::New(env, r.debugSignalClosed));
  out.Set("sessionKeyring", Napi::Boolean::New(env, r.sessionKeyring));
  out.Set("broadcasts", TimingsToJs(env, r.broadcasts));
  out.Set("steps", TimingsToJs(env, r.steps));
  return out;
}

Napi::Value ProbeBroadcastJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&] { return TimingToJs(env, privdrop::ProbeBroadcast()); });
}

Napi::Value GlibcSetgroupsBroadcastJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&] { return TimingToJs(env, privdrop::GlibcSetgroupsBroadcast()); });
}

Napi::Value ExecJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = StringArg(info, 0, "file");
  if (info.Length() < 4) ThrowArg(env, "exec(file, argv, env, keepFds)");
  std::vector<std::string> argv = StringArray(env, info[1], "argv");
  std::vector<std::string> envp = StringArray(env, info[2], "env");
  if (!info[3].IsArray()) ThrowArg(env, "keepFds must be an array");
  Napi::Array fa = info[3].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < fa.Length(); i++) fds.push_back(I32(env, fa.Get(i), "keepFds[]"));
  Guard(env, [&] { privdrop::Exec(file, argv, envp, fds); return 0; });
  return env.Undefined();
}

// ---- the root session: controlling terminal, chroot search access (native/session.h) --------

Napi::Value OpenTerminalJs(const Napi::CallbackInfo& info) {
  privdrop::TerminalHandle t = privdrop::OpenControllingTerminal();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("fd", Napi::Number::New(info.Env(), t.fd));
  o.Set("leader", Napi::Boolean::New(info.Env(), t.leader));
  return o;
}

privdrop::TerminalHandle TerminalArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(info.Env(), "terminal must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value fd = o.Get("fd");
  if (!fd.IsNumber()) ThrowArg(info.Env(), "terminal.fd must be a number");
  privdrop::TerminalHandle t;
  t.fd = fd.As<Napi::Number>().Int32Value();
  t.leader = BoolProp(o, "leader");
  return t;
}

Napi::Value ReleaseTerminalJs(const Napi::CallbackInfo& info) {
  privdrop::ReleaseControllingTerminal(TerminalArg(info));
  return info.Env().Undefined();
}

Napi::Value CloseTerminalJs(const Napi::CallbackInfo& info) {
  privdrop::CloseTerminalHandle(TerminalArg(info));
  return info.Env().Undefined();
}

Napi::Value SearchAccessJs(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "path");
  const char* syscall = "";
  int err = privdrop::SearchAccess(path, &syscall);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("errno", Napi::Number::New(info.Env(), err));
  o.Set("syscall", Napi::String::New(info.Env(), syscall));
  return o;
}

// ---- run-time capabilities (capset.h, listen.h) ----------------------------------------

Napi::Value SetCapabilitiesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "plan must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  privdrop::SetCapsPlan plan;
  static_cast<CapMasks&>(plan) = MasksArg(info, 0);
  plan.ambientGiven = !o.Get("ambient").IsUndefined();
  if (plan.ambientGiven) plan.ambient = MaskOf(o, "ambient");
  privdrop::SetCapsResult r = Guard(env, [&] { return privdrop::SetCapabilities(plan); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("threads", Napi::Number::New(env, r.threads));
  out.Set("ms", Napi::Number::New(env, r.ms));
  out.Set("effective", Napi::BigInt::New(env, r.verified.eff));
  out.Set("permitted", Napi::BigInt::New(env, r.verified.prm));
  out.Set("inheritable", Napi::BigInt::New(env, r.verified.inh));
  out.Set("ambient", Napi::BigInt::New(env, r.verified.amb));
  out.Set("bounding", Napi::BigInt::New(env, r.verified.bnd));
  Napi::Array b = Napi::Array::New(env, 2);
  b.Set(0u, TimingToJs(env, {"noop", r.noopMs, r.noopThreads}));
  b.Set(1u, TimingToJs(env, {"setcaps", r.applyMs, r.applyThreads}));
  out.Set("broadcasts", b);
  return out;
}

uint64_t MaskArg(const Napi::CallbackInfo& info, const char* what) {
  if (info.Length() < 1 || !info[0].IsBigInt()) ThrowArg(info.Env(), std::string(what) + " must be a bigint");
  bool lossless = false;
  uint64_t m = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowArg(info.Env(), std::string(what) + " must fit in 64 bits");
  return m;
}

Napi::Value WindowEnterJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t mask = MaskArg(info, "mask");
  return Guard(env, [&] { return Napi::BigInt::New(env, privdrop::WindowEnter(mask)); });
}

Napi::Value WindowLeaveJs(const Napi::CallbackInfo& info) {
  privdrop::WindowLeave(MaskArg(info, "raised"));
  return info.Env().Undefined();
}

Napi::Value WindowsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t seq = 0;
  std::vector<privdrop::WindowInfo> list = privdrop::Windows(&seq);
  Napi::Array a = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) {
    Napi::Object w = Napi::Object::New(env);
    w.Set("tid", Napi::Number::New(env, list[i].tid));
    w.Set("depth", Napi::Number::New(env, list[i].depth));
    w.Set("raised", Napi::BigInt::New(env, list[i].raised));
    a.Set(static_cast<uint32_t>(i), w);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("seq", Napi::Number::New(env, static_cast<double>(seq)));
  out.Set("windows", a);
  return out;
}

Napi::Value CapGetFileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "path");
  privdrop::FileCaps f = Guard(env, [&] { return privdrop::CapsOfFile(path); });
  return f.present ? Napi::Value(MasksToJs(env, f.masks)) : env.Null();
}

Napi::Value BindTcpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "request must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  privdrop::BindRequest req;
  Napi::Value address = o.Get("address");
  if (!address.IsString()) ThrowArg(env, "address must be a string");
  req.address = address.As<Napi::String>().Utf8Value();
  if (req.address.find('\0') != std::string::npos) ThrowArg(env, "address must not contain NUL bytes");
  req.port = static_cast<int>(U32(env, o.Get("port"), "port"));
  req.ipv6Only = BoolProp(o, "ipv6Only");
  req.reusePort = BoolProp(o, "reusePort");
  return Napi::Number::New(env, privdrop::BindTcp(req));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory));
  exports.Set("platform", Napi::Function::New(env, PlatformJs));
  exports.Set("gettid", Napi::Function::New(env, GetTidJs));
  exports.Set("isMainThread", Napi::Function::New(env, IsMainThreadJs));
  exports.Set("getSecurebits", Napi::Function::New(env, GetSecurebitsJs));
  exports.Set("capMaxBits", Napi::Function::New(env, CapMaxBitsJs));
  exports.Set("capName", Napi::Function::New(env, CapNameJs));
  exports.Set("capFromText", Napi::Function::New(env, CapFromTextJs));
  exports.Set("capToText", Napi::Function::New(env, CapToTextJs));
  exports.Set("capGetProc", Napi::Function::New(env, CapGetProcJs));
  exports.Set("capGetPid", Napi::Function::New(env, CapGetPidJs));
  exports.Set("capSetProc", Napi::Function::New(env, CapSetProcJs));
  exports.Set("lookupUser", Napi::Function::New(env, LookupUserJs));
  exports.Set("lookupGroup", Napi::Function::New(env, LookupGroupJs));
  exports.Set("groupList", Napi::Function::New(env, GroupListJs));
  exports.Set("drop", Napi::Function::New(env, DropJs));
  exports.Set("probeBroadcast", Napi::Function::New(env, ProbeBroadcastJs));
  exports.Set("glibcSetgroupsBroadcast", Napi::Function::New(env, GlibcSetgroupsBroadcastJs));
  exports.Set("exec", Napi::Function::New(env, ExecJs));
  exports.Set("openTerminal", Napi::Function::New(env, OpenTerminalJs));
  exports.Set("releaseTerminal", Napi::Function::New(env, ReleaseTerminalJs));
  exports.Set("closeTerminal", Napi::Function::New(env, CloseTerminalJs));
  exports.Set("searchAccess", Napi::Function::New(env, SearchAccessJs));
  exports.Set("setCapabilities", Napi::Function::New(env, SetCapabilitiesJs));
  exports.Set("windowEnter", Napi::Function::New(env, WindowEnterJs));
  exports.Set("windowLeave", Napi::Function::New(env, WindowLeaveJs));
  exports.Set("windows", Napi::Function::New(env, WindowsJs));
  exports.Set("bindTcp", Napi::Function::New(env, BindTcpJs));
  exports.Set("capGetFile", Napi::Function::New(env, CapGetFileJs));
#ifdef PRIVDROP_FAULT_INJECTION
  exports.Set("faultInjection", Napi::Boolean::New(env, true));
#else
  exports.Set("faultInjection", Napi::Boolean::New(env, false));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(privdrop, Init)
