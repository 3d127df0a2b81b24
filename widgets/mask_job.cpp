#include "mask_job.h"

#include "quant/dabc_mask.h"

#include <exception>
#include <utility>

namespace mq::ui {

MaskJob::MaskJob(QObject* parent) : QObject(parent)
{
    m_pool.setMaxThreadCount(2); // a newer request need not wait for a stale one to finish
}

MaskJob::~MaskJob()
{
    m_pool.clear();
    m_pool.waitForDone();
}

quint64 MaskJob::request(core::Session session, const core::DabcSettings& settings)
{
    const quint64 id = ++m_latest;
    m_pool.clear(); // queued but not started: already stale
    m_pool.start([this, id, s = std::move(session), settings]() mutable {
        PlanMap plans;
        QString error;
        try {
            core::computeMasks(s, settings);
            plans = std::move(s.plans);
        } catch (const std::exception& e) { // never let an exception cross the thread
            error = QString::fromStdString(e.what());
        }
        // Posted to this object's thread; the destructor waits for us, and Qt drops events posted
        // to a deleted object, so `this` is alive when the call runs.
        QMetaObject::invokeMethod(
            this, [this, id, plans = std::move(plans), error] { deliver(id, plans, error); }, Qt::QueuedConnection);
    });
    return id;
}

bool MaskJob::deliver(quint64 id, const PlanMap& plans, const QString& error)
{
    if (id != m_latest) {
        ++m_dropped;
        return false;
    }
    if (!error.isEmpty())
        emit failed(id, error);
    else
        emit masksReady(id, plans);
    return true;
}

} // namespace mq::ui
