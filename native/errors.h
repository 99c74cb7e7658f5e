// Turns C++ exceptions and libtorrent error_codes into JS Errors carrying a stable `code`,
// so TypeScript can branch on the code and show the libtorrent message to a person.
#pragma once

#include <napi.h>
#include <libtorrent/error_code.hpp>
#include <string>

namespace cs {

// A failure captured off the JS thread, turned into a JS Error later on the JS thread.
struct ErrorInfo {
  std::string code;
  std::string message;
  bool empty() const { return code.empty(); }
};

// Stable code for an error_code: errno-like values get names (NOT_FOUND, PERMISSION_DENIED, ...),
// anything else becomes LIBTORRENT_<CATEGORY>_<VALUE>.
std::string CodeFor(const lt::error_code& ec);

ErrorInfo InfoFor(const lt::error_code& ec, const std::string& context);

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message);
Napi::Error MakeError(Napi::Env env, const ErrorInfo& info);

// Throws (as a JS exception) the error for `ec`; `context` says what we were doing.
[[noreturn]] void ThrowFor(Napi::Env env, const lt::error_code& ec, const std::string& context);

}  // namespace cs
