// lt::torrent_handle wrapped for JS: pause/resume, recheck, peers, rate limits, resume data, status.
#pragma once

#include <napi.h>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>

#include <memory>

#include "session.h"

namespace cs {

// Plain JS object for one torrent_status (shared with Session.statusAll).
Napi::Object StatusToObject(Napi::Env env, const lt::torrent_status& st);
const char* StateName(lt::torrent_status::state_t s);

class TorrentHandle : public Napi::ObjectWrap<TorrentHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<SessionState> state, const lt::torrent_handle& h);
  explicit TorrentHandle(const Napi::CallbackInfo& info);

  const lt::torrent_handle& handle() const { return h_; }

 private:
  Napi::Value Status(const Napi::CallbackInfo& info);
  void Pause(const Napi::CallbackInfo& info);
  void Resume(const Napi::CallbackInfo& info);
  void ForceRecheck(const Napi::CallbackInfo& info);
  void ConnectPeer(const Napi::CallbackInfo& info);
  void SetDownloadLimit(const Napi::CallbackInfo& info);
  void SetUploadLimit(const Napi::CallbackInfo& info);
  void SaveResumeData(const Napi::CallbackInfo& info);
  Napi::Value PieceStates(const Napi::CallbackInfo& info);
  void SetSuperSeeding(const Napi::CallbackInfo& info);
  void SetSequentialDownload(const Napi::CallbackInfo& info);
  Napi::Value FileProgress(const Napi::CallbackInfo& info);
  void SetFilePriority(const Napi::CallbackInfo& info);
  void ClearError(const Napi::CallbackInfo& info);
  void ForceReannounce(const Napi::CallbackInfo& info);
  Napi::Value Peers(const Napi::CallbackInfo& info);

  // Runs f on the handle, turning libtorrent exceptions (e.g. a removed torrent) into coded JS errors.
  template <typename F>
  auto Guard(Napi::Env env, F&& f) -> decltype(f(std::declval<lt::torrent_handle&>()));

  std::shared_ptr<SessionState> state_;
  lt::torrent_handle h_;
};

}  // namespace cs
