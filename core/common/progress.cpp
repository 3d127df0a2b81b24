#include "common/progress.h"

#include "common/error.h"

#include <cmath>
#include <utility>
#include <cstdio>

namespace mq::core {

void CancelToken::check() const
{
    if (isCancelled())
        throw Cancelled();
}

EtaClock::EtaClock() : m_start(std::chrono::steady_clock::now()) {}

double EtaClock::elapsedSeconds() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

double remainingSeconds(double elapsed, double fraction)
{
    if (fraction <= 0.0)
        return -1.0;
    if (fraction >= 1.0)
        return 0.0;
    return elapsed * (1.0 - fraction) / fraction;
}

std::string formatDuration(double seconds)
{
    if (seconds < 0 || !std::isfinite(seconds))
        return "?";
    char buf[32];
    const long s = std::lround(seconds);
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
}

void report(const ProgressSink& sink, const std::string& stage, double fraction, const std::string& message,
            std::map<std::string, double> metrics)
{
    if (!sink)
        return;
    ProgressEvent e;
    e.stage = stage;
    e.fraction = fraction;
    e.message = message;
    e.metrics = std::move(metrics);
    sink(e);
}

} // namespace mq::core
