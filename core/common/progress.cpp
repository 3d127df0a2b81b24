#include "common/progress.h"

#include "common/error.h"

#include <algorithm>
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

double EtaSmoother::update(double elapsed, double fraction)
{
    if (fraction >= 1.0)
        return 0.0;
    if (m_lastT < 0.0) {
        m_lastT = elapsed;
        m_lastF = fraction;
    } else if (elapsed > m_lastT && fraction > m_lastF) { // a new point of progress
        const double inst = (fraction - m_lastF) / (elapsed - m_lastT);
        const double w = 1.0 - std::exp(-(elapsed - m_lastT) / m_tau);
        m_rate = m_rate < 0.0 ? inst : m_rate + w * (inst - m_rate);
        m_lastT = elapsed;
        m_lastF = fraction;
    }
    if (elapsed < 1.0 || fraction < 0.01)
        return -1.0;
    const double average = elapsed * (1.0 - fraction) / fraction;
    const double smoothed = m_rate > 0.0 ? (1.0 - fraction) / m_rate : average;
    return std::max(average, smoothed);
}

void EtaSmoother::reset()
{
    m_lastT = -1.0;
    m_lastF = 0.0;
    m_rate = -1.0;
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
