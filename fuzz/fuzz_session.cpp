// libFuzzer: the session reader (.mqs: the checksum header, then HDF5), on files as a reader
// meets them (a mutated file fails its checksum first: what corruption on disk looks like).
// With MQ_FUZZ_SESSION_RESEAL=1 in the environment each input's checksum is rewritten first, so
// the mutations reach HDF5 and the session reader behind it (crafted files).
// MQ_FUZZ_WRITE_SEED=PATH writes a small valid session to PATH and exits (the seed corpus).
#include "fuzz_common.h"

#include "io/session_store.h"

#include <cstdlib>

namespace {

mq::core::Session smallSession()
{
    using namespace mq::core;
    Session s;
    s.model.path = "/models/tiny";
    s.model.fingerprint = "fp";
    s.model.architecture = "llama";
    s.model.configJson = "{}";
    ModuleInfo m;
    m.name = "model.layers.0.self_attn.q_proj";
    m.kind = "q_proj";
    m.inputGroup = "layers.0.qkv_in";
    m.inFeatures = 4;
    m.outFeatures = 4;
    s.modules.push_back(m);
    s.groups.push_back(m.inputGroup);
    InputStats st;
    ChannelStats& c = st.pooled;
    c.channels = 4;
    c.min = {-1.f, -2.f, 0.f, -0.5f};
    c.max = {1.f, 2.f, 3.f, 0.5f};
    c.sumAbs = {1, 2, 3, 4};
    c.sumSq = {1, 4, 9, 16};
    c.count = 3;
    c.hist.assign(4 * 40, 0u);
    c.hist[5] = 3;
    st.perModality[0] = c;
    s.stats[m.inputGroup] = st;
    s.settings = QuantSettings{};
    GroupPlan p;
    p.scores = {0.1, 0.2, 0.9, 0.1};
    p.mask = {0, 0, 1, 0};
    p.handEdited = {0, 0, 0, 0};
    s.plans[m.inputGroup] = p;
    return s;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    if (const char* seed = std::getenv("MQ_FUZZ_WRITE_SEED")) {
        mq::core::saveSession(smallSession(), seed);
        std::exit(0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const bool reseal = std::getenv("MQ_FUZZ_SESSION_RESEAL") != nullptr;
    return mq::fuzz::readAsFile(data, size, ".mqs", [](const std::string& path) {
        if (reseal)
            mq::core::resealSession(path);
        mq::core::loadSession(path);
    });
}
