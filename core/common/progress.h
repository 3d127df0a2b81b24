#pragma once
// Progress reporting and cancellation for long work in core.
// Thread-safety: CancelToken may be set from any thread and polled from workers.
// ProgressSink is called on the worker thread; consumers marshal it themselves.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mq::core {

class CancelToken {
public:
    void cancel() { m_cancelled.store(true, std::memory_order_relaxed); }
    bool isCancelled() const { return m_cancelled.load(std::memory_order_relaxed); }
    // Throws Cancelled when cancel() was called. Call between layers and batches.
    void check() const;

private:
    std::atomic<bool> m_cancelled{false};
};

struct ProgressEvent {
    std::string stage;     // e.g. "calibrate", "mdqfo", "eval"
    double fraction = 0.0; // of this stage, 0..1
    std::string message;   // e.g. "layer 3/28"
    std::map<std::string, double> metrics; // optional step metrics (loss terms, tokens/s)
    // Optional: what the event is about (e.g. the input group MDQFO just optimized) and series
    // of equal length that describe it (e.g. "step", "lp", "lcos", "total": the group's loss
    // curve), so a front end can draw a run's results while it goes on.
    std::string item;
    std::map<std::string, std::vector<double>> series;
};

using ProgressSink = std::function<void(const ProgressEvent&)>;

// Tracks elapsed time of a stage and estimates the time left from the fraction done.
class EtaClock {
public:
    EtaClock();
    double elapsedSeconds() const;

private:
    std::chrono::steady_clock::time_point m_start;
};

// Sends one event to `sink` (nothing when it is empty).
void report(const ProgressSink& sink, const std::string& stage, double fraction, const std::string& message,
            std::map<std::string, double> metrics = {});

// The time left of a stage, for people: from an exponentially smoothed rate of the recent
// updates (time constant `tau` seconds), never below what the stage's average rate so far gives
// (elapsed * (1 - f) / f), so a quick start cannot promise "0.0s left" that then grows to
// minutes. Unknown (-1) in the first second and below 1% done; 0 when done. Feed it the
// stage's elapsed seconds and fraction; reset() at a new stage.
class EtaSmoother {
public:
    explicit EtaSmoother(double tau = 5.0) : m_tau(tau) {}
    double update(double elapsed, double fraction);
    void reset();

private:
    double m_tau;
    double m_lastT = -1.0, m_lastF = 0.0, m_rate = -1.0;
};

// "1m05s" style.
std::string formatDuration(double seconds);

} // namespace mq::core
