#include "job_controller.h"

#include "common/error.h"

#include <QMetaObject>
#include <QPointer>
#include <QThread>

#include <chrono>

namespace mq::ui {

namespace {
enum Outcome { Finished, Cancelled, Failed };
} // namespace

struct JobController::Shared {
    core::CancelToken cancel;
};

JobController::JobController(QObject* parent) : QObject(parent) {}

JobController::~JobController()
{
    if (m_shared)
        m_shared->cancel.cancel();
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
    }
}

bool JobController::start(const QString& title, const core::Session& session, Body body)
{
    if (m_thread)
        return false;
    const quint64 id = ++m_id;
    m_shared = std::make_shared<Shared>();
    m_title = title;
    m_clock.start();
    auto shared = m_shared;
    auto work = std::make_shared<core::Session>(session); // copied here, on the GUI thread
    QPointer<JobController> self(this);
    m_thread = QThread::create([self, id, shared, work, body = std::move(body)]() mutable {
        // Progress is throttled to ~20 updates a second (and every stage change) so a fast
        // engine loop cannot flood the GUI's event queue.
        std::string lastStage;
        auto lastPost = std::chrono::steady_clock::now() - std::chrono::seconds(1);
        auto stageStart = std::chrono::steady_clock::now();
        core::EtaSmoother eta; // per stage
        const core::ProgressSink sink = [&](const core::ProgressEvent& e) {
            const auto now = std::chrono::steady_clock::now();
            if (!e.series.empty()) {
                // Results to draw (e.g. a group's MDQFO curve) are never dropped by the throttle.
                SeriesMap data;
                for (const auto& [key, values] : e.series)
                    data.insert(QString::fromStdString(key), QVector<double>(values.begin(), values.end()));
                QMetaObject::invokeMethod(
                    self.data(),
                    [self, id, stage = QString::fromStdString(e.stage), item = QString::fromStdString(e.item),
                     data = std::move(data)] {
                        if (self)
                            self->onSeries(id, stage, item, data);
                    },
                    Qt::QueuedConnection);
            }
            if (e.stage != lastStage) {
                lastStage = e.stage;
                stageStart = now;
                eta.reset();
            }
            const double elapsed = std::chrono::duration<double>(now - stageStart).count();
            const double left = eta.update(elapsed, e.fraction); // every event counts for the rate
            if (now - lastPost < std::chrono::milliseconds(50) && e.fraction < 1.0 && elapsed > 0.0)
                return;
            lastPost = now;
            QMetaObject::invokeMethod(
                self.data(),
                [self, id, stage = QString::fromStdString(e.stage), f = e.fraction,
                 msg = QString::fromStdString(e.message), left] {
                    if (self)
                        self->onProgress(id, stage, f, msg, left);
                },
                Qt::QueuedConnection);
        };
        int outcome = Finished;
        QString text;
        try {
            // A body that returns has done its work (an export is in place by then): a Cancel that
            // came after its last check is too late, and the job finished.
            text = body(*work, sink, shared->cancel);
        } catch (const core::Cancelled&) {
            outcome = Cancelled;
        } catch (const std::exception& e) {
            outcome = Failed;
            text = QString::fromStdString(e.what());
        } catch (...) {
            outcome = Failed;
            text = QStringLiteral("unknown error");
        }
        std::shared_ptr<core::Session> result = outcome == Finished ? work : nullptr;
        QMetaObject::invokeMethod(
            self.data(),
            [self, id, outcome, result, text] {
                if (self)
                    self->onDone(id, outcome, result, text);
            },
            Qt::QueuedConnection);
    });
    m_thread->start();
    emit started(title);
    return true;
}

void JobController::cancel()
{
    if (m_shared && m_thread)
        m_shared->cancel.cancel();
}

bool JobController::waitForWorker(int ms)
{
    return !m_thread || m_thread->wait(QDeadlineTimer(ms));
}

void JobController::onProgress(quint64 id, const QString& stage, double fraction, const QString& message, double eta)
{
    if (id != m_id || !m_thread)
        return;
    emit progress(stage, fraction, message, eta);
}

void JobController::onSeries(quint64 id, const QString& stage, const QString& item, const SeriesMap& data)
{
    if (id != m_id || !m_thread)
        return;
    emit series(stage, item, data);
}

void JobController::onDone(quint64 id, int outcome, std::shared_ptr<core::Session> session, const QString& text)
{
    if (id != m_id)
        return;
    if (m_thread) {
        m_thread->wait(); // the worker posted this as its last act: this returns at once
        delete m_thread;
        m_thread = nullptr;
    }
    m_shared.reset();
    const QString title = m_title;
    const double seconds = double(m_clock.elapsed()) / 1000.0;
    switch (outcome) {
    case Finished:
        emit finished(title, std::move(session), text, seconds);
        break;
    case Cancelled:
        emit cancelled(title, seconds);
        break;
    default:
        emit failed(title, text, seconds);
        break;
    }
}

} // namespace mq::ui
