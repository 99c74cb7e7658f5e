// Error mapping shared by every wrapped libtorrent concept.
#include "errors.h"

#include <libtorrent/error_code.hpp>
#include <libtorrent/bdecode.hpp>
#include <boost/system/error_code.hpp>
#include <cctype>
#include <cerrno>

namespace cs {

static std::string Upper(std::string s) {
  for (auto& c : s) c = std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(static_cast<unsigned char>(c)) : '_';
  return s;
}

std::string CodeFor(const lt::error_code& ec) {
  const auto& cat = ec.category();
  if (cat == boost::system::generic_category() || cat == boost::system::system_category()) {
    switch (ec.value()) {
      case ENOENT: return "NOT_FOUND";
      case EACCES:
      case EPERM:
      case EROFS: return "PERMISSION_DENIED";
      case ENOTDIR: return "NOT_A_DIRECTORY";
      case EISDIR: return "IS_A_DIRECTORY";
      case ENOSPC: return "DISK_FULL";
      case EINVAL: return "INVALID_ARGUMENT";
      default: break;
    }
  }
  if (cat == lt::bdecode_category()) return "BAD_TORRENT";
  return "LIBTORRENT_" + Upper(cat.name()) + "_" + std::to_string(ec.value());
}

ErrorInfo InfoFor(const lt::error_code& ec, const std::string& context) {
  std::string msg = ec.message();
  if (!context.empty()) msg = context + ": " + msg;
  return {CodeFor(ec), msg};
}

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

Napi::Error MakeError(Napi::Env env, const ErrorInfo& info) {
  return MakeError(env, info.code, info.message);
}

void ThrowFor(Napi::Env env, const lt::error_code& ec, const std::string& context) {
  throw MakeError(env, InfoFor(ec, context));
}

}  // namespace cs
