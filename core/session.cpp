#include "session.h"

#include "common/hash.h"
#include "io/session_store.h"

#include <cstdio>

namespace mq::core {

int64_t CalibrationInfo::totalTokens() const
{
    int64_t total = 0;
    for (int64_t t : tokens)
        total += t;
    return total;
}

const ModuleInfo* Session::findModule(const std::string& name) const
{
    // A decoder has a few hundred Linears at most; a linear scan beats keeping an index in sync.
    for (const ModuleInfo& m : modules) {
        if (m.name == name)
            return &m;
    }
    return nullptr;
}

std::vector<const ModuleInfo*> Session::groupMembers(const std::string& group) const
{
    std::vector<const ModuleInfo*> out;
    for (const ModuleInfo& m : modules) {
        if (m.inputGroup == group)
            out.push_back(&m);
    }
    return out;
}

namespace {

struct Fnv {
    uint64_t h = kFnv1aOffset;
    void bytes(const void* p, size_t n) { h = fnv1a(h, p, n); }
    void str(const std::string& s)
    {
        const uint64_t n = s.size();
        bytes(&n, sizeof n); // length first: "ab"+"c" and "a"+"bc" differ
        bytes(s.data(), s.size());
    }
    template <class T> void vec(const std::vector<T>& v)
    {
        const uint64_t n = v.size();
        bytes(&n, sizeof n);
        if (!v.empty())
            bytes(v.data(), v.size() * sizeof(T));
    }
};

} // namespace

std::string planFingerprint(const Session& s)
{
    if (!s.settings)
        return {};
    Fnv f;
    f.str(settingsToJson(*s.settings));
    for (const auto& [name, p] : s.plans) {
        f.str(name);
        f.vec(p.mask);
        f.vec(p.alpha);
        f.vec(p.smooth);
        f.bytes(&p.tokenClip, sizeof p.tokenClip);
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.h));
    return hex;
}

bool resultIsCurrent(const Session& s, const std::string& measured)
{
    return measured.empty() || measured == planFingerprint(s);
}

void clearPlan(Session& s)
{
    s.plans.clear();
    s.weights.clear();
    s.curves.clear();
    s.errors.clear();
    s.settings.reset();
}

} // namespace mq::core
