// TorrentHandle: one torrent in a session, 1:1 with lt::torrent_handle.
#include "torrent_handle.h"

#include <libtorrent/address.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/socket.hpp>

#include <vector>

#include "errors.h"

namespace cs {

const char* StateName(lt::torrent_status::state_t s) {
  switch (s) {
    case lt::torrent_status::checking_files: return "checking_files";
    case lt::torrent_status::downloading_metadata: return "downloading_metadata";
    case lt::torrent_status::downloading: return "downloading";
    case lt::torrent_status::finished: return "finished";
    case lt::torrent_status::seeding: return "seeding";
    case lt::torrent_status::checking_resume_data: return "checking_resume_data";
    default: return "unknown";
  }
}

static Napi::Number Num(Napi::Env env, std::int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

Napi::Object StatusToObject(Napi::Env env, const lt::torrent_status& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("infoHash", InfoHashHex(st.info_hashes));
  o.Set("name", st.name);
  o.Set("savePath", st.save_path);
  o.Set("state", StateName(st.state));
  o.Set("paused", Napi::Boolean::New(env, bool(st.flags & lt::torrent_flags::paused)));
  o.Set("progress", Napi::Number::New(env, st.progress));
  o.Set("totalWanted", Num(env, st.total_wanted));
  o.Set("totalWantedDone", Num(env, st.total_wanted_done));
  o.Set("totalDownload", Num(env, st.total_download));
  o.Set("totalPayloadDownload", Num(env, st.total_payload_download));
  o.Set("totalPayloadUpload", Num(env, st.total_payload_upload));
  o.Set("allTimeDownload", Num(env, st.all_time_download));
  o.Set("allTimeUpload", Num(env, st.all_time_upload));
  o.Set("downloadRate", Num(env, st.download_payload_rate));
  o.Set("uploadRate", Num(env, st.upload_payload_rate));
  o.Set("numPeers", Num(env, st.num_peers));
  o.Set("numSeeds", Num(env, st.num_seeds));
  o.Set("numPieces", Num(env, st.num_pieces));
  o.Set("isSeeding", Napi::Boolean::New(env, st.is_seeding));
  o.Set("isFinished", Napi::Boolean::New(env, st.is_finished));
  o.Set("uploadMode", Napi::Boolean::New(env, bool(st.flags & lt::torrent_flags::upload_mode)));
  o.Set("superSeeding", Napi::Boolean::New(env, bool(st.flags & lt::torrent_flags::super_seeding)));
  if (st.errc) {
    o.Set("errorCode", CodeFor(st.errc));
    std::string msg = st.errc.message();
    if (st.error_file >= lt::file_index_t{0}) {
      if (auto ti = st.torrent_file.lock()) msg += ": " + ti->files().file_path(st.error_file);
    }
    o.Set("error", msg);
  } else {
    o.Set("errorCode", env.Null());
    o.Set("error", env.Null());
  }
  return o;
}

Napi::Function TorrentHandle::Define(Napi::Env env) {
  return DefineClass(env, "TorrentHandle", {
    InstanceMethod<&TorrentHandle::Status>("status"),
    InstanceMethod<&TorrentHandle::Pause>("pause"),
    InstanceMethod<&TorrentHandle::Resume>("resume"),
    InstanceMethod<&TorrentHandle::ForceRecheck>("forceRecheck"),
    InstanceMethod<&TorrentHandle::ConnectPeer>("connectPeer"),
    InstanceMethod<&TorrentHandle::SetDownloadLimit>("setDownloadLimit"),
    InstanceMethod<&TorrentHandle::SetUploadLimit>("setUploadLimit"),
    InstanceMethod<&TorrentHandle::SaveResumeData>("saveResumeData"),
    InstanceMethod<&TorrentHandle::PieceStates>("pieceStates"),
    InstanceMethod<&TorrentHandle::SetSuperSeeding>("setSuperSeeding"),
    InstanceMethod<&TorrentHandle::SetSequentialDownload>("setSequentialDownload"),
    InstanceMethod<&TorrentHandle::FileProgress>("fileProgress"),
    InstanceMethod<&TorrentHandle::SetFilePriority>("setFilePriority"),
    InstanceMethod<&TorrentHandle::ClearError>("clearError"),
    InstanceMethod<&TorrentHandle::ForceReannounce>("forceReannounce"),
    InstanceMethod<&TorrentHandle::Peers>("peers"),
  });
}

TorrentHandle::TorrentHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TorrentHandle>(info) {}

Napi::Object TorrentHandle::Wrap(Napi::Env env, std::shared_ptr<SessionState> state, const lt::torrent_handle& h) {
  Napi::Object obj = env.GetInstanceData<AddonData>()->torrentCtor.New({});
  TorrentHandle* self = Unwrap(obj);
  self->state_ = std::move(state);
  self->h_ = h;
  return obj;
}

template <typename F>
auto TorrentHandle::Guard(Napi::Env env, F&& f) -> decltype(f(std::declval<lt::torrent_handle&>())) {
  if (!state_ || state_->closed) throw MakeError(env, "SESSION_CLOSED", "the BitTorrent session is closed");
  try {
    return f(h_);
  } catch (const lt::system_error& e) {
    if (e.code() == lt::errors::invalid_torrent_handle)
      throw MakeError(env, "TORRENT_REMOVED", "this torrent is no longer in the session");
    ThrowFor(env, e.code(), "torrent");
  }
}

Napi::Value TorrentHandle::Status(const Napi::CallbackInfo& info) {
  auto st = Guard(info.Env(), [](lt::torrent_handle& h) {
    return h.status(lt::torrent_handle::query_name | lt::torrent_handle::query_save_path | lt::torrent_handle::query_torrent_file);
  });
  return StatusToObject(info.Env(), st);
}

void TorrentHandle::Pause(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [](lt::torrent_handle& h) {
    h.unset_flags(lt::torrent_flags::auto_managed);
    h.pause(lt::torrent_handle::graceful_pause);
  });
}

void TorrentHandle::Resume(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [](lt::torrent_handle& h) { h.resume(); });
}

void TorrentHandle::ForceRecheck(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [](lt::torrent_handle& h) { h.force_recheck(); });
}

void TorrentHandle::ConnectPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw MakeError(env, "INVALID_ARGUMENT", "connectPeer expects (host, port)");
  lt::error_code ec;
  lt::address addr = lt::make_address(info[0].As<Napi::String>().Utf8Value(), ec);
  int port = info[1].As<Napi::Number>().Int32Value();
  if (ec || port <= 0 || port > 65535) throw MakeError(env, "INVALID_ARGUMENT", "connectPeer needs an IP address and a port 1-65535");
  lt::tcp::endpoint ep(addr, static_cast<std::uint16_t>(port));
  Guard(env, [&](lt::torrent_handle& h) { h.connect_peer(ep); });
}

static int LimitArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw MakeError(info.Env(), "INVALID_ARGUMENT", "a rate limit in bytes per second is required");
  double v = info[0].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v > 2147483647.0) throw MakeError(info.Env(), "INVALID_ARGUMENT", "rate limits are 0 (unlimited) to 2 GB/s");
  // libtorrent treats -1 as unlimited for per-torrent limits; 0 means the same to our callers.
  return v == 0 ? -1 : static_cast<int>(v);
}

void TorrentHandle::SetDownloadLimit(const Napi::CallbackInfo& info) {
  int v = LimitArg(info);
  Guard(info.Env(), [v](lt::torrent_handle& h) { h.set_download_limit(v); });
}

void TorrentHandle::SetUploadLimit(const Napi::CallbackInfo& info) {
  int v = LimitArg(info);
  Guard(info.Env(), [v](lt::torrent_handle& h) { h.set_upload_limit(v); });
}

// The data arrives as a save_resume_data (or save_resume_data_failed) alert.
void TorrentHandle::SaveResumeData(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [](lt::torrent_handle& h) { h.save_resume_data(lt::torrent_handle::save_info_dict); });
}

// pieceStates(): per piece, whether it passed its hash check and all its blocks are written to the
// storage. libtorrent's status().pieces says "passed" as soon as the hash check does, while blocks
// of the piece may still wait in the disk queue (a read of the file then finds old bytes); such a
// piece stays in the download queue until its last write completes (piece_picker::we_have), so it
// is cleared here. The queue is read after the status: a piece missing from it by then is written.
Napi::Value TorrentHandle::PieceStates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = Guard(env, [](lt::torrent_handle& h) {
    lt::torrent_status s = h.status(lt::torrent_handle::query_pieces);
    std::vector<lt::partial_piece_info> queue;
    h.get_download_queue(queue);
    for (const auto& p : queue) {
      if (p.piece_index >= lt::piece_index_t{0} && p.piece_index < s.pieces.end_index()) s.pieces.clear_bit(p.piece_index);
    }
    return s;
  });
  Napi::Array arr = Napi::Array::New(env, static_cast<size_t>(st.pieces.size()));
  for (int i = 0; i < st.pieces.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, st.pieces.get_bit(lt::piece_index_t{i})));
  return arr;
}

// setSuperSeeding(on): torrent_flags::super_seeding (BEP 16 initial seeding, a seed only).
void TorrentHandle::SetSuperSeeding(const Napi::CallbackInfo& info) {
  bool on = info.Length() > 0 && info[0].ToBoolean();
  Guard(info.Env(), [on](lt::torrent_handle& h) {
    if (on) h.set_flags(lt::torrent_flags::super_seeding);
    else h.unset_flags(lt::torrent_flags::super_seeding);
  });
}

// setSequentialDownload(on): pieces are picked in order instead of rarest first (top-priority
// pieces still come first).
void TorrentHandle::SetSequentialDownload(const Napi::CallbackInfo& info) {
  bool on = info.Length() > 0 && info[0].ToBoolean();
  Guard(info.Env(), [on](lt::torrent_handle& h) {
    if (on) h.set_flags(lt::torrent_flags::sequential_download);
    else h.unset_flags(lt::torrent_flags::sequential_download);
  });
}

// fileProgress(): bytes of each file that are in verified pieces (piece granularity), in file order.
Napi::Value TorrentHandle::FileProgress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::int64_t> fp;
  Guard(env, [&](lt::torrent_handle& h) { h.file_progress(fp, lt::torrent_handle::piece_granularity); });
  Napi::Array arr = Napi::Array::New(env, fp.size());
  for (size_t i = 0; i < fp.size(); ++i) arr.Set(static_cast<uint32_t>(i), Num(env, fp[i]));
  return arr;
}

// setFilePriority(index, priority 0-7)
void TorrentHandle::SetFilePriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw MakeError(env, "INVALID_ARGUMENT", "setFilePriority expects (fileIndex, priority)");
  int index = info[0].As<Napi::Number>().Int32Value();
  int prio = info[1].As<Napi::Number>().Int32Value();
  if (index < 0 || prio < 0 || prio > 7) throw MakeError(env, "INVALID_ARGUMENT", "a file index of 0 or more and a priority 0-7 are required");
  Guard(env, [&](lt::torrent_handle& h) { h.file_priority(lt::file_index_t{index}, lt::download_priority_t{static_cast<std::uint8_t>(prio)}); });
}

// clearError(): lt::torrent_handle::clear_error plus leaving upload mode (a full disk's), so a
// torrent stopped by a disk error downloads again; pieces already on disk are kept.
void TorrentHandle::ClearError(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [](lt::torrent_handle& h) {
    h.clear_error();
    h.unset_flags(lt::torrent_flags::upload_mode);
  });
}

// forceReannounce(): announce to every tracker now, past the retry delay libtorrent grew while
// the tracker could not be reached (and past the tracker's min interval).
void TorrentHandle::ForceReannounce(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [](lt::torrent_handle& h) { h.force_reannounce(0, -1, lt::torrent_handle::ignore_min_interval); });
}

// peers(): the connected peers with what cineswarm judges them by (lt::peer_info).
Napi::Value TorrentHandle::Peers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<lt::peer_info> peers;
  Guard(env, [&](lt::torrent_handle& h) { h.get_peer_info(peers); });
  Napi::Array arr = Napi::Array::New(env, peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    const auto& p = peers[i];
    Napi::Object o = Napi::Object::New(env);
    std::string a = p.ip.address().to_string();
    if (p.ip.address().is_v6()) a = "[" + a + "]";
    o.Set("peer", a + ":" + std::to_string(p.ip.port()));
    o.Set("client", p.client);
    o.Set("hashFailures", Napi::Number::New(env, p.num_hashfails));
    o.Set("seed", Napi::Boolean::New(env, bool(p.flags & lt::peer_info::seed)));
    o.Set("progress", Napi::Number::New(env, p.progress));
    o.Set("downloadRate", Num(env, p.payload_down_speed));
    o.Set("totalDownload", Num(env, p.total_download));
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

}  // namespace cs
