#include "progress_printer.h"

#include <cstdio>
#include <unistd.h>

namespace mq::cli {

bool ProgressPrinter::s_silent = false;

ProgressPrinter::ProgressPrinter(bool quiet) : m_quiet(quiet || s_silent), m_tty(::isatty(2) != 0) {}

core::ProgressSink ProgressPrinter::sink()
{
    return [this](const core::ProgressEvent& e) { print(e); };
}

void ProgressPrinter::print(const core::ProgressEvent& e)
{
    if (m_quiet)
        return;
    const double now = m_clock.elapsedSeconds();
    if (e.stage != m_stage) {
        finishLine();
        m_stage = e.stage;
        m_stageStart = m_lastEvent;
        m_lastPrint = -1.0;
        m_eta.reset();
    }
    m_lastEvent = now;
    const double t = now - m_stageStart;
    const double left = m_eta.update(t, e.fraction); // every event counts for the rate
    const bool done = e.fraction >= 1.0;
    if (!done && m_lastPrint >= 0 && t - m_lastPrint < (m_tty ? 0.1 : 1.0))
        return;
    m_lastPrint = t;
    std::string extra;
    for (const auto& [k, v] : e.metrics) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %s=%.4g", k.c_str(), v);
        extra += buf;
    }
    std::fprintf(stderr, "%s[%s] %5.1f%% %s  elapsed %s  ETA %s%s%s", m_tty ? "\r\033[K" : "", e.stage.c_str(),
                 100.0 * e.fraction, e.message.c_str(), core::formatDuration(t).c_str(),
                 core::formatDuration(left).c_str(), extra.c_str(), m_tty ? "" : "\n");
    m_open = m_tty;
    if (done)
        finishLine();
    std::fflush(stderr);
}

void ProgressPrinter::finishLine()
{
    if (m_open)
        std::fputc('\n', stderr);
    m_open = false;
}

} // namespace mq::cli
