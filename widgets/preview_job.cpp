#include "preview_job.h"

#include "common/error.h"

#include <QElapsedTimer>

#include <exception>
#include <utility>

namespace mq::ui {

PreviewJob::PreviewJob(std::shared_ptr<core::Engine> engine, QObject* parent)
    : QObject(parent), m_engine(std::move(engine))
{
    m_pool.setMaxThreadCount(1); // the engine serializes anyway; a stale run is cancelled
}

PreviewJob::~PreviewJob()
{
    cancel();
    m_pool.clear();
    m_pool.waitForDone();
}

void PreviewJob::cancel()
{
    ++m_latest;
    if (m_cancel)
        m_cancel->cancel();
}

quint64 PreviewJob::request(const core::Session& session, std::vector<std::string> groups,
                            const core::QuantSettings& settings)
{
    cancel(); // the run in flight, if any, is stale now
    const quint64 id = m_latest;
    m_cancel = std::make_shared<core::CancelToken>();
    core::Session copy = core::Engine::previewInputs(session); // what the worker reads, no more
    m_pool.clear();
    m_pool.start([this, id, engine = m_engine, token = m_cancel, s = std::move(copy), groups = std::move(groups),
                  settings]() {
        PreviewList result;
        QString error;
        QElapsedTimer clock;
        clock.start();
        try {
            result = engine->replanGroups(s, groups, settings, token.get());
        } catch (const core::Cancelled&) {
            return; // a newer request (or a cancel) superseded this one: nothing to deliver
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        const double seconds = double(clock.nsecsElapsed()) * 1e-9;
        QMetaObject::invokeMethod(
            this, [this, id, result = std::move(result), error, seconds] { deliver(id, result, error, seconds); },
            Qt::QueuedConnection);
    });
    return id;
}

bool PreviewJob::deliver(quint64 id, const PreviewList& result, const QString& error, double seconds)
{
    if (id != m_latest)
        return false;
    if (!error.isEmpty())
        emit failed(id, error);
    else
        emit previewReady(id, result, seconds);
    return true;
}

} // namespace mq::ui
