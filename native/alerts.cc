// Alert conversion: the common fields (type, message, infoHash, peer, tracker url) for every alert,
// plus the fields cineswarm acts on for the alerts it cares about.
#include "alerts.h"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <vector>

#include "addon.h"
#include "errors.h"
#include "torrent_handle.h"

namespace cs {
namespace {

std::string Endpoint(const lt::tcp::endpoint& ep) {
  std::string a = ep.address().to_string();
  if (ep.address().is_v6()) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port());
}

void SetError(Napi::Object& o, const lt::error_code& ec) {
  if (!ec) return;
  o.Set("errorCode", CodeFor(ec));
  o.Set("error", ec.message());
}

}  // namespace

Napi::Object AlertToObject(Napi::Env env, lt::alert* a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", a->what());
  o.Set("message", a->message());
  if (auto* ta = dynamic_cast<lt::torrent_alert*>(a)) {
    if (ta->handle.is_valid()) o.Set("infoHash", InfoHashHex(ta->handle.info_hashes()));
  }
  if (auto* pa = dynamic_cast<lt::peer_alert*>(a)) o.Set("peer", Endpoint(pa->endpoint));
  if (auto* tr = dynamic_cast<lt::tracker_alert*>(a)) o.Set("url", tr->tracker_url());

  switch (a->type()) {
    case lt::hash_failed_alert::alert_type:
      o.Set("pieceIndex", static_cast<int>(static_cast<lt::hash_failed_alert*>(a)->piece_index));
      break;
    case lt::state_changed_alert::alert_type: {
      auto* s = static_cast<lt::state_changed_alert*>(a);
      o.Set("state", StateName(s->state));
      o.Set("previousState", StateName(s->prev_state));
      break;
    }
    case lt::save_resume_data_alert::alert_type: {
      auto* s = static_cast<lt::save_resume_data_alert*>(a);
      // A full disk's upload mode is a passing condition, never something to restore (see addTorrent).
      lt::add_torrent_params params = s->params;
      params.flags &= ~lt::torrent_flags::upload_mode;
      std::vector<char> buf = lt::write_resume_data_buf(params);
      o.Set("resumeData", Napi::Buffer<char>::Copy(env, buf.data(), buf.size()));
      break;
    }
    case lt::save_resume_data_failed_alert::alert_type:
      SetError(o, static_cast<lt::save_resume_data_failed_alert*>(a)->error);
      break;
    case lt::file_error_alert::alert_type: {
      auto* f = static_cast<lt::file_error_alert*>(a);
      SetError(o, f->error);
      o.Set("file", f->filename());
      break;
    }
    case lt::torrent_error_alert::alert_type: {
      auto* f = static_cast<lt::torrent_error_alert*>(a);
      SetError(o, f->error);
      o.Set("file", f->filename());
      break;
    }
    case lt::tracker_error_alert::alert_type: {
      auto* t = static_cast<lt::tracker_error_alert*>(a);
      SetError(o, t->error);
      if (*t->failure_reason()) o.Set("error", t->failure_reason());
      break;
    }
    case lt::tracker_warning_alert::alert_type:
      o.Set("error", static_cast<lt::tracker_warning_alert*>(a)->warning_message());
      break;
    case lt::tracker_reply_alert::alert_type:
      o.Set("numPeers", static_cast<lt::tracker_reply_alert*>(a)->num_peers);
      break;
    case lt::torrent_removed_alert::alert_type:
      o.Set("infoHash", InfoHashHex(static_cast<lt::torrent_removed_alert*>(a)->info_hashes));
      break;
    case lt::torrent_deleted_alert::alert_type:
      o.Set("infoHash", InfoHashHex(static_cast<lt::torrent_deleted_alert*>(a)->info_hashes));
      break;
    case lt::torrent_delete_failed_alert::alert_type: {
      auto* d = static_cast<lt::torrent_delete_failed_alert*>(a);
      o.Set("infoHash", InfoHashHex(d->info_hashes));
      SetError(o, d->error);
      break;
    }
    case lt::listen_failed_alert::alert_type: {
      auto* l = static_cast<lt::listen_failed_alert*>(a);
      SetError(o, l->error);
      o.Set("port", l->port);
      break;
    }
    case lt::listen_succeeded_alert::alert_type: {
      auto* l = static_cast<lt::listen_succeeded_alert*>(a);
      o.Set("port", l->port);
      o.Set("address", l->address.to_string());
      break;
    }
    case lt::peer_error_alert::alert_type:
      SetError(o, static_cast<lt::peer_error_alert*>(a)->error);
      break;
    case lt::file_completed_alert::alert_type:
      o.Set("fileIndex", static_cast<int>(static_cast<lt::file_completed_alert*>(a)->index));
      break;
    case lt::performance_alert::alert_type:
      o.Set("warningCode", static_cast<int>(static_cast<lt::performance_alert*>(a)->warning_code));
      break;
    default:
      break;
  }
  return o;
}

}  // namespace cs
