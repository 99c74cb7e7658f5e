// Registers the native cineswarm engine: libtorrent session and torrent handles, torrent
// creation and parsing, and file hashing. Policy lives in src/engine/; this is mechanism only.
#include <napi.h>
#include <libtorrent/version.hpp>
#include <cstdio>

#include "addon.h"

namespace cs {

std::string Hex(const lt::sha1_hash& h) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(40);
  for (unsigned char c : h) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string InfoHashHex(const lt::info_hash_t& ih) { return Hex(ih.get_best()); }

}  // namespace cs

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace cs;
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  exports.Set("libtorrentVersion", Napi::String::New(env, lt::version()));
  exports.Set("hashFiles", Napi::Function::New(env, HashFiles, "hashFiles"));
  exports.Set("createTorrent", Napi::Function::New(env, CreateTorrent, "createTorrent"));
  exports.Set("parseTorrent", Napi::Function::New(env, ParseTorrent, "parseTorrent"));
  exports.Set("exchangePaths", Napi::Function::New(env, ExchangePaths, "exchangePaths"));
  InitTorrentHandle(env, exports, data);
  InitSession(env, exports, data);
  return exports;
}

NODE_API_MODULE(cineswarm_engine, Init)
