// Super seeding that makes its first offers as soon as a peer is ready (native/super_seeding.cc).
#pragma once
#include <libtorrent/extensions.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <memory>

namespace cs {

// The plugin's factory, for add_torrent_params::extensions of a torrent added to super seed; it
// acts only while the torrent is super seeding (the mode can be turned off and on again).
std::shared_ptr<lt::torrent_plugin> SuperSeedingStart(const lt::torrent_handle&, lt::client_data_t);

}  // namespace cs
