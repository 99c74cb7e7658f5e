// lt::session wrapped for JS: settings packs, adding/removing torrents, status of all torrents,
// and alerts pushed to one JS callback through a single ThreadSafeFunction.
#pragma once

#include <napi.h>
#include <libtorrent/session.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/ip_filter.hpp>

#include <atomic>
#include <memory>

#include "addon.h"

namespace cs {

// Shared by the session object and every torrent handle it gave out, so a handle used after
// close() fails with SESSION_CLOSED instead of touching a dead session.
struct SessionState {
  std::unique_ptr<lt::session> ses;
  bool closed = false;                   // only touched on the JS thread
  std::atomic<bool> drainQueued{false};  // an alert drain is queued on the JS thread
  Napi::ThreadSafeFunction tsfn;
  lt::ip_filter defaultPeerClasses;        // libtorrent's own: local networks exempt from rate limits
};

// Builds a settings_pack from {settingName: value}, names as in libtorrent's settings_pack.
lt::settings_pack SettingsFromObject(Napi::Env env, Napi::Object obj);

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Session(const Napi::CallbackInfo& info);
  ~Session() override;

 private:
  Napi::Value ListenPort(const Napi::CallbackInfo& info);
  void ApplySettings(const Napi::CallbackInfo& info);
  Napi::Value AddTorrent(const Napi::CallbackInfo& info);
  void RemoveTorrent(const Napi::CallbackInfo& info);
  Napi::Value StatusAll(const Napi::CallbackInfo& info);
  void SetRateLimitLocalPeers(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  lt::session& Live(Napi::Env env);

  std::shared_ptr<SessionState> state_;
};

}  // namespace cs
