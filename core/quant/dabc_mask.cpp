#include "quant/dabc_mask.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace mq::core {

double outlierThreshold(const std::vector<double>& scores, double k)
{
    double sum = 0.0, sumSq = 0.0;
    size_t n = 0;
    for (double v : scores) {
        if (!std::isfinite(v))
            continue;
        sum += v;
        sumSq += v * v;
        ++n;
    }
    if (n == 0)
        return INFINITY;
    const double mu = sum / double(n);
    const double var = std::max(0.0, sumSq / double(n) - mu * mu);
    return mu + k * std::sqrt(var);
}

namespace {

bool forcedGroup(const Session& s, const std::string& group, const DabcSettings& st)
{
    for (const ModuleInfo* m : s.groupMembers(group))
        if (std::find(st.forceKinds.begin(), st.forceKinds.end(), m->kind) != st.forceKinds.end())
            return true;
    return false;
}

// Mask bits of one score source (pooled or one modality): local OR global.
void flagOutliers(const std::map<std::string, std::vector<double>>& scores, const DabcSettings& st,
                  std::map<std::string, std::vector<uint8_t>>& masks, std::map<std::string, double>* tauLocal,
                  double* tauGlobal)
{
    std::vector<double> all;
    for (const auto& [g, sc] : scores)
        all.insert(all.end(), sc.begin(), sc.end());
    const double tg = outlierThreshold(all, st.k);
    if (tauGlobal)
        *tauGlobal = tg;
    for (const auto& [g, sc] : scores) {
        const double tl = outlierThreshold(sc, st.k);
        if (tauLocal)
            (*tauLocal)[g] = tl;
        auto& m = masks[g];
        m.resize(sc.size(), 0);
        for (size_t c = 0; c < sc.size(); ++c)
            if ((st.useLocal && sc[c] > tl) || (st.useGlobal && sc[c] > tg))
                m[c] = 1;
    }
}

// Keeps at most floor(share * K) set bits: those of the highest scores (ties: lower channel).
void capMask(std::vector<uint8_t>& m, const std::vector<double>& scores, double share)
{
    if (share >= 1.0 || m.empty())
        return;
    const size_t keep = size_t(std::floor(std::max(0.0, share) * double(m.size()) + 1e-9));
    std::vector<size_t> set;
    for (size_t c = 0; c < m.size(); ++c)
        if (m[c])
            set.push_back(c);
    if (set.size() <= keep)
        return;
    auto score = [&](size_t c) { return c < scores.size() && std::isfinite(scores[c]) ? scores[c] : -INFINITY; };
    std::stable_sort(set.begin(), set.end(), [&](size_t a, size_t b) { return score(a) > score(b); });
    for (size_t i = keep; i < set.size(); ++i)
        m[set[i]] = 0;
}

} // namespace

void computeMasks(Session& s, const DabcSettings& st)
{
    std::map<std::string, std::vector<double>> pooled;
    for (const std::string& g : s.groups) {
        auto it = s.stats.find(g);
        if (it == s.stats.end())
            throw Error("no calibration statistics for input group '" + g + "'");
        pooled[g] = dispersionScores(it->second.pooled, st.form);
    }
    std::map<std::string, std::vector<uint8_t>> masks;
    std::map<std::string, double> tauLocal;
    double tauGlobal = 0.0;
    flagOutliers(pooled, st, masks, &tauLocal, &tauGlobal);
    if (st.anyModality) {
        for (int m = 0; m < kNumModalities; ++m) {
            std::map<std::string, std::vector<double>> per;
            for (const std::string& g : s.groups) {
                const ChannelStats& cs = s.stats[g].perModality[size_t(m)];
                if (!cs.empty())
                    per[g] = dispersionScores(cs, st.form);
            }
            if (!per.empty())
                flagOutliers(per, st, masks, nullptr, nullptr);
        }
    }
    for (const std::string& g : s.groups) {
        GroupPlan& p = s.plans[g];
        p.scores = pooled[g];
        std::vector<uint8_t> m = masks[g];
        if (!st.enabled)
            std::fill(m.begin(), m.end(), 0);
        else if (forcedGroup(s, g, st))
            std::fill(m.begin(), m.end(), 1);
        capMask(m, p.scores, st.maxShare);
        if (p.handEdited.size() == m.size()) {
            for (size_t c = 0; c < m.size(); ++c)
                if (p.handEdited[c])
                    m[c] = p.mask.size() == m.size() ? p.mask[c] : m[c];
        } else {
            p.handEdited.assign(m.size(), 0);
        }
        p.mask = std::move(m);
        p.tauLocal = tauLocal[g];
        p.tauGlobal = tauGlobal;
    }
}

Session maskInputs(const Session& s)
{
    Session c;
    c.modules = s.modules;
    c.groups = s.groups;
    c.stats = s.stats;
    c.plans = s.plans;
    return c;
}

} // namespace mq::core
