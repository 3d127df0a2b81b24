#pragma once
// DABC's mask (DESIGN.md Eq. 6) from calibration statistics: plain value types, no libtorch, so
// the GUI's live threshold tuning can call it directly. Cheap: one pass over the scores.
#include <vector>

#include "session.h"

namespace mq::core {

// mu + k * sigma (population sigma) over the finite values.
double outlierThreshold(const std::vector<double>& scores, double k);

// Eq. 6 for every input group of the session: scores from the pooled statistics (or, with
// anyModality, a channel is masked if it is an outlier for any modality with data), local
// threshold over the group's channels, global over all groups' channels, forced kinds, and hand
// edits (handEdited bits keep their mask value). Writes scores/mask/tau into s.plans, creating
// plans as needed; alpha0/alpha are left alone. Pure function of stats and settings.
void computeMasks(Session& s, const DabcSettings& settings);

// The part of a session computeMasks reads and writes (modules, groups, stats, plans): what a
// background mask worker needs to copy.
Session maskInputs(const Session& s);

} // namespace mq::core
