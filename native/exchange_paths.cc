// exchangePaths(a, b): swaps two directory entries in one step with renameat2(RENAME_EXCHANGE),
// so a reader of the folder sees either the old entry or the new one under a name, never neither
// and never a mix. The agent swaps a DCP's ingest folder to a re-release this way. A metadata
// operation of a few microseconds: it runs on the calling thread.
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addon.h"
#include "errors.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace cs {

static std::string ErrnoCode(int e) {
  switch (e) {
    case ENOENT: return "NOT_FOUND";
    case EACCES:
    case EPERM:
    case EROFS: return "PERMISSION_DENIED";
    case EXDEV: return "CROSS_DEVICE";
    case EINVAL: return "NOT_SUPPORTED";
    case ENOTDIR: return "NOT_A_DIRECTORY";
    default: return "IO_ERROR";
  }
}

Napi::Value ExchangePaths(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw MakeError(env, "INVALID_ARGUMENT", "exchangePaths needs two paths");
  std::string a = info[0].As<Napi::String>().Utf8Value();
  std::string b = info[1].As<Napi::String>().Utf8Value();
  // glibc 2.36 has no wrapper for every libc we build against: the raw syscall is the same call.
  if (syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0) {
    int e = errno;
    std::string why = e == EINVAL ? "this filesystem cannot swap two entries in one step (renameat2 RENAME_EXCHANGE)" : std::strerror(e);
    throw MakeError(env, ErrnoCode(e), "cannot swap " + a + " and " + b + ": " + why);
  }
  return env.Undefined();
}

}  // namespace cs
