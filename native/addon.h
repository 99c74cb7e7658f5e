// Entry points registered by addon.cc, one group per wrapped libtorrent concept, and small helpers they share.
#pragma once

#include <napi.h>
#include <libtorrent/sha1_hash.hpp>
#include <libtorrent/info_hash.hpp>
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/io_context.hpp>
#include <memory>
#include <string>

namespace cs {

// Per-instance data (the addon is context aware): constructors of the wrapped classes.
struct AddonData {
  Napi::FunctionReference sessionCtor;
  Napi::FunctionReference torrentCtor;
};

std::string Hex(const lt::sha1_hash& h);
// The 20-byte hash that names a torrent: v1 when present, else the truncated v2 hash (as libtorrent does).
std::string InfoHashHex(const lt::info_hash_t& ih);

Napi::Value HashFiles(const Napi::CallbackInfo& info);
Napi::Value CreateTorrent(const Napi::CallbackInfo& info);
Napi::Value ParseTorrent(const Napi::CallbackInfo& info);
Napi::Value ExchangePaths(const Napi::CallbackInfo& info);
// The `posix` backend: libtorrent's posix_disk_io, with writes through files kept open and piece
// hash checks on a thread of their own
std::unique_ptr<lt::disk_interface> PosixHashingDiskIoConstructor(lt::io_context& ios, lt::settings_interface const& sett, lt::counters& cnt);

void InitSession(Napi::Env env, Napi::Object exports, AddonData* data);
void InitTorrentHandle(Napi::Env env, Napi::Object exports, AddonData* data);

}  // namespace cs
