// parseTorrent(bytes): reads a .torrent with lt::torrent_info, no session needed (used by the
// server to vet uploads and by the agent to know names and sizes before adding).
#include <napi.h>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/announce_entry.hpp>

#include "addon.h"
#include "errors.h"

namespace cs {

// Shared with session.cc: a torrent_info from JS bytes, or a BAD_TORRENT JS exception.
std::shared_ptr<lt::torrent_info> TorrentInfoFromBuffer(Napi::Env env, Napi::Value v) {
  if (!v.IsBuffer()) throw MakeError(env, "INVALID_ARGUMENT", "expected .torrent bytes in a Buffer");
  auto buf = v.As<Napi::Buffer<char>>();
  lt::error_code ec;
  auto ti = std::make_shared<lt::torrent_info>(lt::span<char const>(buf.Data(), static_cast<std::ptrdiff_t>(buf.Length())), ec, lt::from_span);
  if (ec) throw MakeError(env, "BAD_TORRENT", "not a valid .torrent file: " + ec.message());
  return ti;
}

Napi::Value ParseTorrent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ti = TorrentInfoFromBuffer(env, info.Length() > 0 ? info[0] : env.Undefined());
  Napi::Object o = Napi::Object::New(env);
  o.Set("infoHash", InfoHashHex(ti->info_hashes()));
  o.Set("name", ti->name());
  o.Set("totalSize", Napi::Number::New(env, static_cast<double>(ti->total_size())));
  o.Set("pieceLength", Napi::Number::New(env, ti->piece_length()));
  o.Set("numPieces", Napi::Number::New(env, ti->num_pieces()));
  o.Set("private", Napi::Boolean::New(env, ti->priv()));
  Napi::Array trackers = Napi::Array::New(env);
  uint32_t n = 0;
  for (const auto& ae : ti->trackers()) trackers.Set(n++, ae.url);
  o.Set("trackers", trackers);
  const lt::file_storage& fs = ti->files();
  Napi::Array files = Napi::Array::New(env);
  n = 0;
  for (auto i : fs.file_range()) {
    if (fs.pad_file_at(i)) continue;  // alignment padding, not part of the content
    Napi::Object f = Napi::Object::New(env);
    f.Set("path", fs.file_path(i));
    f.Set("size", Napi::Number::New(env, static_cast<double>(fs.file_size(i))));
    files.Set(n++, f);
  }
  o.Set("files", files);
  return o;
}

}  // namespace cs
