// Super seeding (BEP 16) that starts the moment a peer is ready, for the initial seeder.
//
// A super seed hides its bitfield and offers each peer one or two pieces at a time with HAVE
// messages, the least available ones that no other peer is being offered; when the peer announces
// an offered piece, it gets the next one. Its capped upload then sends each piece about once.
// libtorrent 2.0.8 makes the first two offers while the peer's handshake is still being read
// (bt_peer_connection::write_bitfield runs before the state leaves the handshake), where
// peer_connection::superseed_piece returns without sending them. The next offer comes from the
// peer's once-a-second tick only after it has been uninterested for 10 s: every peer waits 10 s
// for its first byte. This plugin makes those two offers as soon as the peer has said what it
// holds (have-none, a bitfield, or one tick without either), and chooses the offers of the first
// copy in piece order (FirstCopy below); after it, libtorrent's own super seeding carries on.
//
// The offers live in peer_connection's private m_superseed_piece (the seed serves only offered
// pieces) and the peer's pieces in its protected m_have_piece: both are reached through member
// pointers formed in explicit template instantiations, where C++ does not check access, so the
// layout is the one of the installed libtorrent headers this file is compiled against. The
// write of the HAVE goes through the connection's own (virtual) write_have. Only inline members
// and virtual functions are called: libtorrent exports no other internal symbol.
#include <libtorrent/bt_peer_connection.hpp>
#include <libtorrent/extensions.hpp>
#include <libtorrent/peer_connection.hpp>
#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/torrent.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <array>
#include <memory>
#include <random>
#include <vector>

#include "super_seeding.h"

namespace cs {
namespace {

template <typename Tag, typename Tag::type Member>
struct Grant {
  friend typename Tag::type member(Tag) { return Member; }
};

struct OfferSlots {
  using type = std::array<lt::piece_index_t, 2> lt::peer_connection::*;
  friend type member(OfferSlots);
};
template struct Grant<OfferSlots, &lt::peer_connection::m_superseed_piece>;

struct PeerPieces {
  using type = lt::typed_bitfield<lt::piece_index_t> lt::peer_connection_hot_members::*;
  friend type member(PeerPieces);
};
template struct Grant<PeerPieces, &lt::peer_connection_hot_members::m_have_piece>;

// protected and virtual: called through the pointer, the call still dispatches to the connection's class
struct SendHave {
  using type = void (lt::peer_connection::*)(lt::piece_index_t);
  friend type member(SendHave);
};
template struct Grant<SendHave, &lt::peer_connection::write_have>;

std::array<lt::piece_index_t, 2>& Offers(lt::peer_connection& pc) { return pc.*member(OfferSlots()); }
const lt::typed_bitfield<lt::piece_index_t>& Pieces(lt::peer_connection& pc) { return pc.*member(PeerPieces()); }

bool Offered(lt::peer_connection& pc, lt::piece_index_t i) {
  const auto& o = Offers(pc);
  return o[0] == i || o[1] == i;
}

bool Holds(const lt::typed_bitfield<lt::piece_index_t>& bits, lt::piece_index_t i) {
  return static_cast<int>(i) < bits.size() && bits[i];
}

// The torrent's first copy, offered in piece order: each piece to one peer, the lowest-numbered
// piece nobody has been offered yet. A cinema downloading alone then receives the DCP from its
// start (the packing lists first, and each picture file's prefix, which it hashes as it lands),
// and a swarm receives one whole copy before any piece is offered twice.
struct FirstCopy {
  std::vector<bool> offered;
  int cursor = 0;  // every piece below has been offered
};

class PeerStart final : public lt::peer_plugin {
 public:
  PeerStart(lt::peer_connection_handle pc, std::shared_ptr<FirstCopy> copy) : pc_(std::move(pc)), copy_(std::move(copy)) {}

  lt::string_view type() const override { return "cineswarm_super_seeding"; }

  // A peer that supports the fast extension and holds nothing says so first.
  bool on_have_none() override {
    Start(nullptr);
    return false;
  }
  // Called before libtorrent stores the bitfield: the offers must skip what it names.
  bool on_bitfield(const lt::bitfield& bits) override {
    lt::typed_bitfield<lt::piece_index_t> held(bits);
    Start(&held);
    return false;
  }
  // A peer with no pieces may send neither (the bitfield is optional): start on the next tick.
  void tick() override { Start(nullptr); }

  // Called before libtorrent handles the HAVE: when the peer announces a piece it was offered, the
  // next piece of the first copy replaces it, so libtorrent's own replacement (at random among the
  // least available) finds nothing to replace. Once the first copy is out, libtorrent carries on.
  bool on_have(lt::piece_index_t index) override {
    std::shared_ptr<lt::peer_connection> pc = Live();
    if (!pc) return false;
    auto& o = Offers(*pc);
    if (o[0] != index && o[1] != index) return false;
    lt::piece_index_t next = NextOfFirstCopy(*pc->associated_torrent().lock(), Pieces(*pc), index);
    if (next == lt::piece_index_t(-1)) return false;
    if (o[0] == index) std::swap(o[0], o[1]);  // the announced piece leaves the slots
    Offer(*pc, next);
    return false;
  }

 private:
  // The connection while its torrent super seeds and its handshake is over, else null.
  std::shared_ptr<lt::peer_connection> Live() {
    std::shared_ptr<lt::peer_connection> pc = pc_.native_handle();
    if (!pc || pc->is_disconnecting() || pc->is_connecting() || pc->in_handshake()) return nullptr;
    std::shared_ptr<lt::torrent> t = pc->associated_torrent().lock();
    if (!t || !t->super_seeding()) return nullptr;
    return pc;
  }

  void Start(const lt::typed_bitfield<lt::piece_index_t>* held) {
    if (started_) return;
    std::shared_ptr<lt::peer_connection> pc = Live();
    if (!pc) return;
    started_ = true;
    // libtorrent's own offers got through (a later libtorrent, or a peer that was slow enough).
    if (Offers(*pc)[0] != lt::piece_index_t(-1)) return;
    std::shared_ptr<lt::torrent> t = pc->associated_torrent().lock();
    const lt::typed_bitfield<lt::piece_index_t>& bits = held ? *held : Pieces(*pc);
    // The first downloader after a quiet spell (everyone else gone or complete) starts a new first
    // copy: it too gets the DCP from its start.
    bool alone = true;
    for (lt::peer_connection* p : *t) alone = alone && (p == pc.get() || Pieces(*p).all_set());
    if (alone) *copy_ = FirstCopy{};
    for (int n = 0; n < 2; ++n) {
      lt::piece_index_t piece = NextOfFirstCopy(*t, bits, lt::piece_index_t(-1));
      if (piece == lt::piece_index_t(-1)) piece = LeastAvailable(*t, *pc, bits);
      if (piece == lt::piece_index_t(-1)) return;
      Offer(*pc, piece);
    }
  }

  // The offer as libtorrent's superseed_piece makes it: the new piece takes the first slot, the
  // first moves to the second (the piece in the second leaves), and a HAVE tells the peer.
  static void Offer(lt::peer_connection& pc, lt::piece_index_t piece) {
    auto& o = Offers(pc);
    o[1] = o[0];
    o[0] = piece;
    (pc.*member(SendHave()))(piece);
  }

  // The lowest-numbered piece no peer has been offered or holds and this peer lacks (nor has just
  // announced: `announced`), marked offered; -1 once the whole first copy has been offered.
  lt::piece_index_t NextOfFirstCopy(lt::torrent& t, const lt::typed_bitfield<lt::piece_index_t>& bits, lt::piece_index_t announced) {
    FirstCopy& c = *copy_;
    const int pieces = t.torrent_file().num_pieces();
    if (static_cast<int>(c.offered.size()) != pieces) c.offered.assign(pieces, false);
    while (c.cursor < pieces && c.offered[c.cursor]) ++c.cursor;
    for (int n = c.cursor; n < pieces; ++n) {
      lt::piece_index_t i(n);
      if (c.offered[n] || i == announced || Holds(bits, i)) continue;
      bool held = false;
      for (lt::peer_connection* p : t) held = held || Holds(Pieces(*p), i);
      c.offered[n] = true;  // held elsewhere already: it needs no first offer either
      if (!held) return i;
    }
    return lt::piece_index_t(-1);
  }

  // The least available piece among the torrent's peers that this peer lacks and that no peer is
  // being offered, ties broken at random (libtorrent's torrent::get_piece_to_super_seed).
  lt::piece_index_t LeastAvailable(lt::torrent& t, lt::peer_connection& self, const lt::typed_bitfield<lt::piece_index_t>& bits) {
    int best = 1 << 30;
    std::vector<lt::piece_index_t> ties;
    const int pieces = t.torrent_file().num_pieces();
    for (lt::piece_index_t i(0); static_cast<int>(i) < pieces; ++i) {
      if (Holds(bits, i)) continue;
      int availability = 0;
      for (lt::peer_connection* p : t) {
        if (Offered(*p, i)) {
          availability = 1 << 29;  // offered elsewhere: only if nothing else is left
          break;
        }
        if (p != &self && Holds(Pieces(*p), i)) ++availability;
      }
      if (availability > best) continue;
      if (availability < best) {
        best = availability;
        ties.clear();
      }
      ties.push_back(i);
    }
    if (ties.empty()) return lt::piece_index_t(-1);
    std::uniform_int_distribution<std::size_t> pick(0, ties.size() - 1);
    return ties[pick(Random())];
  }

  static std::mt19937& Random() {
    static std::mt19937 r{std::random_device{}()};
    return r;
  }

  lt::peer_connection_handle pc_;
  std::shared_ptr<FirstCopy> copy_;
  bool started_ = false;
};

class TorrentStart final : public lt::torrent_plugin {
 public:
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    if (pc.type() != lt::connection_type::bittorrent) return nullptr;
    return std::make_shared<PeerStart>(pc, copy_);
  }

 private:
  std::shared_ptr<FirstCopy> copy_ = std::make_shared<FirstCopy>();
};

}  // namespace

std::shared_ptr<lt::torrent_plugin> SuperSeedingStart(const lt::torrent_handle&, lt::client_data_t) {
  return std::make_shared<TorrentStart>();
}

}  // namespace cs
