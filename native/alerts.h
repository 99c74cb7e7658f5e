// libtorrent alerts as plain JS objects: the payload of every engine event (EngineAlert in src/engine/types.ts).
#pragma once

#include <napi.h>
#include <libtorrent/alert.hpp>

namespace cs {

// Must run on the JS thread, before the next pop_alerts() invalidates the alert.
Napi::Object AlertToObject(Napi::Env env, lt::alert* a);

}  // namespace cs
