// Session: lt::session with a settings pack, torrents in and out, statusAll, and alert delivery.
// Alerts: libtorrent's notify callback (network thread) queues one drain on the JS thread through
// the ThreadSafeFunction; the drain pops every alert and hands JS one array of plain objects.
#include "session.h"

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/mmap_disk_io.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_info.hpp>

#include <vector>

#include "alerts.h"
#include "background.h"
#include "errors.h"
#include "super_seeding.h"
#include "torrent_handle.h"

namespace cs {

std::shared_ptr<lt::torrent_info> TorrentInfoFromBuffer(Napi::Env env, Napi::Value v);

lt::settings_pack SettingsFromObject(Napi::Env env, Napi::Object obj) {
  lt::settings_pack pack;
  Napi::Array keys = obj.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string name = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value v = obj.Get(name);
    int idx = lt::setting_by_name(name);
    if (idx < 0) throw MakeError(env, "INVALID_ARGUMENT", "unknown libtorrent setting '" + name + "'");
    switch (idx & lt::settings_pack::type_mask) {
      case lt::settings_pack::string_type_base:
        if (!v.IsString()) throw MakeError(env, "INVALID_ARGUMENT", "setting '" + name + "' takes a string");
        pack.set_str(idx, v.As<Napi::String>().Utf8Value());
        break;
      case lt::settings_pack::int_type_base:
        if (v.IsBoolean()) pack.set_int(idx, v.As<Napi::Boolean>().Value() ? 1 : 0);
        else if (v.IsNumber()) pack.set_int(idx, v.As<Napi::Number>().Int32Value());
        else throw MakeError(env, "INVALID_ARGUMENT", "setting '" + name + "' takes a number");
        break;
      case lt::settings_pack::bool_type_base:
        if (v.IsBoolean()) pack.set_bool(idx, v.As<Napi::Boolean>().Value());
        else if (v.IsNumber()) pack.set_bool(idx, v.As<Napi::Number>().Int32Value() != 0);
        else throw MakeError(env, "INVALID_ARGUMENT", "setting '" + name + "' takes true or false");
        break;
    }
  }
  return pack;
}

namespace {

// Runs on the JS thread: pop everything libtorrent has queued and give it to JS in one call.
void Drain(Napi::Env env, Napi::Function jsCallback, const std::shared_ptr<SessionState>& state) {
  if (state->closed || !state->ses) return;
  state->drainQueued = false;  // before popping, so alerts posted meanwhile queue a new drain
  std::vector<lt::alert*> alerts;
  state->ses->pop_alerts(&alerts);
  if (alerts.empty()) return;
  Napi::HandleScope scope(env);
  Napi::Array arr = Napi::Array::New(env, alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) arr.Set(static_cast<uint32_t>(i), AlertToObject(env, alerts[i]));
  jsCallback.Call({arr});
}

void QueueDrain(const std::shared_ptr<SessionState>& state) {
  if (state->drainQueued.exchange(true)) return;
  std::shared_ptr<SessionState> s = state;
  state->tsfn.NonBlockingCall([s](Napi::Env env, Napi::Function fn) { Drain(env, fn, s); });
}

// Shuts the libtorrent session down off the JS thread: abort() waits for trackers and disk.
class CloseJob : public BackgroundJob {
 public:
  explicit CloseJob(std::unique_ptr<lt::session> ses) : ses_(std::move(ses)) {}
  void Run(const std::function<void()>&) override {
    lt::session_proxy proxy = ses_->abort();
    ses_.reset();
  }  // the proxy's destructor blocks until the session has fully stopped
  void OnDone(Napi::Env env, Napi::Promise::Deferred& deferred) override { deferred.Resolve(env.Undefined()); }

 private:
  std::unique_ptr<lt::session> ses_;
};

}  // namespace

Napi::Function Session::Define(Napi::Env env) {
  return DefineClass(env, "Session", {
    InstanceMethod<&Session::ListenPort>("listenPort"),
    InstanceMethod<&Session::ApplySettings>("applySettings"),
    InstanceMethod<&Session::AddTorrent>("addTorrent"),
    InstanceMethod<&Session::RemoveTorrent>("removeTorrent"),
    InstanceMethod<&Session::StatusAll>("statusAll"),
    InstanceMethod<&Session::SetRateLimitLocalPeers>("setRateLimitLocalPeers"),
    InstanceMethod<&Session::Close>("close"),
  });
}

// new Session(settings: {name: value}, onAlerts: (alerts: object[]) => void, options?: {storage?: 'mmap' | 'posix'})
// The disk backend is part of session_params, so it can only be chosen here, never changed later.
Session::Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info), state_(std::make_shared<SessionState>()) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
    throw MakeError(env, "INVALID_ARGUMENT", "Session expects (settings, onAlerts)");
  lt::session_params params(SettingsFromObject(env, info[0].As<Napi::Object>()));
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Value storage = info[2].As<Napi::Object>().Get("storage");
    if (!storage.IsUndefined()) {
      std::string kind = storage.IsString() ? storage.As<Napi::String>().Utf8Value() : "";
      if (kind == "mmap") params.disk_io_constructor = lt::mmap_disk_io_constructor;
      else if (kind == "posix") params.disk_io_constructor = PosixHashingDiskIoConstructor;
      else throw MakeError(env, "INVALID_ARGUMENT", "storage must be 'mmap' or 'posix'");
    }
  }
  try {
    state_->ses = std::make_unique<lt::session>(std::move(params));
  } catch (const lt::system_error& e) {
    ThrowFor(env, e.code(), "starting the BitTorrent session");
  }
  state_->defaultPeerClasses = state_->ses->get_peer_class_filter();
  state_->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "cineswarm.alerts", 0, 1);
  std::shared_ptr<SessionState> s = state_;
  state_->ses->set_alert_notify([s] { QueueDrain(s); });
  QueueDrain(state_);  // alerts posted before the notify function was installed
}

Session::~Session() {
  // Without close() the session is left to die with the process: destroying it here would
  // block the JS thread until trackers and disk threads finish.
  if (state_ && state_->ses) {
    state_->ses->set_alert_notify([] {});
    (void)state_->ses.release();
  }
}

// Any libtorrent exception from a session call becomes a coded JS error instead of ending the process.
template <typename F>
static auto Guarded(Napi::Env env, const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const lt::system_error& e) {
    if (e.code() == lt::errors::invalid_torrent_handle)
      throw MakeError(env, "TORRENT_REMOVED", "this torrent is no longer in the session");
    ThrowFor(env, e.code(), what);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw MakeError(env, "INTERNAL", std::string(what) + ": " + e.what());
  }
}

lt::session& Session::Live(Napi::Env env) {
  if (state_->closed || !state_->ses) throw MakeError(env, "SESSION_CLOSED", "the BitTorrent session is closed");
  return *state_->ses;
}

Napi::Value Session::ListenPort(const Napi::CallbackInfo& info) {
  lt::session& ses = Live(info.Env());
  return Napi::Number::New(info.Env(), Guarded(info.Env(), "listen port", [&] { return ses.listen_port(); }));
}

void Session::ApplySettings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw MakeError(env, "INVALID_ARGUMENT", "applySettings expects an object");
  lt::session& ses = Live(env);
  lt::settings_pack pack = SettingsFromObject(env, info[0].As<Napi::Object>());
  Guarded(env, "applying settings", [&] { ses.apply_settings(std::move(pack)); });
}

// addTorrent({torrent?: Buffer, resumeData?: Buffer, savePath, paused, seedMode, piecesVerified, superSeeding, downloadLimit, uploadLimit})
Napi::Value Session::AddTorrent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  lt::session& ses = Live(env);
  if (info.Length() < 1 || !info[0].IsObject()) throw MakeError(env, "INVALID_ARGUMENT", "addTorrent expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  lt::add_torrent_params atp;
  Napi::Value rd = o.Get("resumeData");
  if (rd.IsBuffer()) {
    auto buf = rd.As<Napi::Buffer<char>>();
    lt::error_code ec;
    atp = lt::read_resume_data(lt::span<char const>(buf.Data(), static_cast<std::ptrdiff_t>(buf.Length())), ec);
    if (ec) throw MakeError(env, "BAD_RESUME_DATA", "the saved resume data cannot be read: " + ec.message());
  }
  Napi::Value tv = o.Get("torrent");
  if (!tv.IsUndefined()) {
    auto ti = TorrentInfoFromBuffer(env, tv);
    if (atp.ti && atp.ti->info_hashes() != ti->info_hashes())
      throw MakeError(env, "BAD_RESUME_DATA", "the resume data belongs to a different torrent");
    atp.ti = ti;
  }
  if (!atp.ti) throw MakeError(env, "INVALID_ARGUMENT", "addTorrent needs .torrent bytes or resume data holding them");
  Napi::Value sp = o.Get("savePath");
  if (!sp.IsString()) throw MakeError(env, "INVALID_ARGUMENT", "addTorrent needs a savePath");
  atp.save_path = sp.As<Napi::String>().Utf8Value();
  // Torrents are never auto-managed: the caller decides what runs, libtorrent's queue must not.
  // Upload mode is libtorrent's reaction to a full disk; resume data saved then carries it and
  // would keep the torrent from downloading for ever after the space is back.
  // Super seeding is the caller's choice each time (resume data carries the flag of its last run),
  // and it is set here, before any peer can connect: a peer told of every piece before the mode
  // starts would have each request refused. The plugin makes each peer's first offers at once.
  atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused | lt::torrent_flags::upload_mode | lt::torrent_flags::super_seeding);
  atp.flags |= lt::torrent_flags::duplicate_is_error;
  // The plugin goes only on torrents that super seed: it hooks every HAVE of every connection.
  if (o.Get("superSeeding").ToBoolean()) {
    atp.flags |= lt::torrent_flags::super_seeding;
    atp.extensions.push_back(SuperSeedingStart);
  }
  if (o.Get("paused").ToBoolean()) atp.flags |= lt::torrent_flags::paused;
  if (o.Get("seedMode").ToBoolean()) {
    atp.flags |= lt::torrent_flags::seed_mode;
    // The caller hashed these very files into this torrent a moment ago: seed mode need not hash
    // each piece again the first time a peer asks for it.
    if (o.Get("piecesVerified").ToBoolean()) atp.verified_pieces.resize(atp.ti->num_pieces(), true);
  }
  Napi::Value dl = o.Get("downloadLimit"), ul = o.Get("uploadLimit");
  if (dl.IsNumber() && dl.As<Napi::Number>().Int32Value() > 0) atp.download_limit = dl.As<Napi::Number>().Int32Value();
  if (ul.IsNumber() && ul.As<Napi::Number>().Int32Value() > 0) atp.upload_limit = ul.As<Napi::Number>().Int32Value();
  lt::error_code ec;
  lt::torrent_handle h = Guarded(env, "adding the torrent", [&] { return ses.add_torrent(std::move(atp), ec); });
  if (ec) {
    if (ec == lt::errors::duplicate_torrent) throw MakeError(env, "DUPLICATE_TORRENT", "this torrent is already in the session");
    ThrowFor(env, ec, "adding the torrent");
  }
  return TorrentHandle::Wrap(env, state_, h);
}

// removeTorrent(handle, deleteFiles): completion arrives as torrent_removed / torrent_deleted alerts.
void Session::RemoveTorrent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  lt::session& ses = Live(env);
  if (info.Length() < 1 || !info[0].IsObject()) throw MakeError(env, "INVALID_ARGUMENT", "removeTorrent expects a torrent");
  TorrentHandle* th = TorrentHandle::Unwrap(info[0].As<Napi::Object>());
  if (th == nullptr) throw MakeError(env, "INVALID_ARGUMENT", "removeTorrent expects a torrent of this session");
  lt::remove_flags_t flags{};
  if (info.Length() > 1 && info[1].ToBoolean()) flags = lt::session::delete_files;
  Guarded(env, "removing the torrent", [&] { ses.remove_torrent(th->handle(), flags); });
}

Napi::Value Session::StatusAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  lt::session& ses = Live(env);
  std::vector<lt::torrent_status> all = Guarded(env, "torrent status", [&] {
    return ses.get_torrent_status([](const lt::torrent_status&) { return true; },
                                  lt::torrent_handle::query_name | lt::torrent_handle::query_save_path | lt::torrent_handle::query_torrent_file);
  });
  Napi::Array arr = Napi::Array::New(env, all.size());
  for (size_t i = 0; i < all.size(); ++i) arr.Set(static_cast<uint32_t>(i), StatusToObject(env, all[i]));
  return arr;
}

// setRateLimitLocalPeers(on): libtorrent puts LAN and loopback peers in a peer class that the
// session rate limits do not touch; with `on`, every peer is in the global class and is limited.
void Session::SetRateLimitLocalPeers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  lt::session& ses = Live(env);
  bool on = info.Length() > 0 && info[0].ToBoolean();
  lt::ip_filter f = state_->defaultPeerClasses;
  if (on) {
    f = lt::ip_filter();
    const std::uint32_t global = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
    f.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), global);
    f.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
  }
  Guarded(env, "setting peer classes", [&] { ses.set_peer_class_filter(f); });
}

Napi::Value Session::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_->closed || !state_->ses) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  state_->closed = true;
  // After this returns libtorrent will not call the notify function again, so the
  // ThreadSafeFunction can be released and no longer holds the event loop open.
  state_->ses->set_alert_notify([] {});
  state_->tsfn.Release();
  return StartBackgroundJob(env, std::make_unique<CloseJob>(std::move(state_->ses)), "cineswarm.close");
}

void InitSession(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = Session::Define(env);
  data->sessionCtor = Napi::Persistent(ctor);
  exports.Set("Session", ctor);
}

void InitTorrentHandle(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = TorrentHandle::Define(env);
  data->torrentCtor = Napi::Persistent(ctor);
  exports.Set("TorrentHandle", ctor);
}

}  // namespace cs
