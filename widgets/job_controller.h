#pragma once
// One controller for the workbench's long jobs (calibration, quantization, evaluation, export):
// a job body runs on a worker thread with its own copy of the session, reports progress through
// the engine's ProgressSink, and polls a CancelToken. Signals arrive on the GUI thread:
//   finished  -> the worker's session replaces the window's (the body completed)
//   cancelled -> the copy is thrown away: the window's session is exactly as before the job
//                (a Cancel after the body's last check is too late: the job finishes)
//   failed    -> the engine's message; the window's session is untouched as well
// One job at a time (start() refuses while one runs). GUI-thread only, except the body.
#include <QElapsedTimer>
#include <QMap>
#include <QVector>
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

#include "common/progress.h"
#include "session.h"

class QThread;

namespace mq::ui {

using SeriesMap = QMap<QString, QVector<double>>;

class JobController : public QObject {
    Q_OBJECT
public:
    // Works on `work` (a copy of the window's session); returns a one-line summary for the log.
    // Throws core::Cancelled (through CancelToken::check) or any std::exception to fail.
    using Body = std::function<QString(core::Session& work, const core::ProgressSink& progress,
                                       const core::CancelToken& cancel)>;

    explicit JobController(QObject* parent = nullptr);
    ~JobController() override; // cancels a running job and waits for its thread

    // Starts `body` on a copy of `session`; returns false (and does nothing) while a job runs.
    bool start(const QString& title, const core::Session& session, Body body);
    bool isRunning() const { return m_thread != nullptr; }
    QString currentTitle() const { return m_title; }
    // Asks the running job to stop at its next check; `cancelled` follows.
    void cancel();
    // Tests and shutdown: waits up to `ms` for the worker thread to end (signals are still
    // queued: spin the event loop to receive them). True when no worker is left.
    bool waitForWorker(int ms);

signals:
    void started(const QString& title);
    // fraction of the current stage (0..1); etaSeconds < 0 when unknown.
    void progress(const QString& stage, double fraction, const QString& message, double etaSeconds);
    // Data to draw while the job goes on (core::ProgressEvent::series), every one of them, in
    // order: e.g. stage "mdqfo", item = the input group, data = its loss curve ("step", "lp",
    // "lcos", "total").
    void series(const QString& stage, const QString& item, const mq::ui::SeriesMap& data);
    void finished(const QString& title, std::shared_ptr<mq::core::Session> session, const QString& summary,
                  double seconds);
    void cancelled(const QString& title, double seconds);
    void failed(const QString& title, const QString& message, double seconds);

private:
    struct Shared; // what the worker and the controller both reach
    void onProgress(quint64 id, const QString& stage, double fraction, const QString& message, double eta);
    void onSeries(quint64 id, const QString& stage, const QString& item, const SeriesMap& data);
    void onDone(quint64 id, int outcome, std::shared_ptr<core::Session> session, const QString& text);

    std::shared_ptr<Shared> m_shared;
    QThread* m_thread = nullptr;
    QString m_title;
    quint64 m_id = 0;
    QElapsedTimer m_clock;
};

} // namespace mq::ui
