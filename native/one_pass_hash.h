// One read of a torrent's files for both hashes a publisher needs: libtorrent's v1 piece hashes
// (set on the create_torrent) and each file's whole-file SHA-1 (what a DCP packing list holds).
#pragma once

#include <libtorrent/create_torrent.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"

namespace cs {

struct WholeFileHash {
  std::string path;  // as in the torrent (starts with the torrent's name)
  uint64_t size = 0;
  unsigned char sha1[20] = {};
};

// Reads every file of `ct` once, under `parent`; one thread reads, one hashes pieces, one hashes
// files. `piecesDone` counts finished pieces; `progress` is called after each. Empty error = ok.
ErrorInfo HashPiecesAndFiles(lt::create_torrent& ct, const std::string& parent, std::vector<WholeFileHash>& files,
                             std::atomic<int>& piecesDone, const std::function<void()>& progress);

}  // namespace cs
