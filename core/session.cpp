#include "session.h"

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

} // namespace mq::core
