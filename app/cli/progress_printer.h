#pragma once
// Progress on stderr with an ETA per stage: a rewritten line on a terminal, at most one line a
// second otherwise (logs stay readable), and always the final 100% line of a stage.
#include <string>

#include "common/progress.h"

namespace mq::cli {

class ProgressPrinter {
public:
    explicit ProgressPrinter(bool quiet = false);
    // Every printer made afterwards prints nothing (the ranks other than 0 of an MPI job).
    static void silenceAll() { s_silent = true; }
    core::ProgressSink sink();
    void finishLine();

private:
    void print(const core::ProgressEvent& e);

    static bool s_silent;
    bool m_quiet;
    bool m_tty;
    std::string m_stage;
    core::EtaSmoother m_eta;   // the stage's time left, from a smoothed rate
    core::EtaClock m_clock;  // since construction; a stage starts where the previous one ended
    double m_stageStart = 0.0;
    double m_lastEvent = 0.0;
    double m_lastPrint = -1.0;
    bool m_open = false;
};

} // namespace mq::cli
