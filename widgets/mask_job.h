#pragma once
// Latest-wins background recompute of DABC's masks (hotspot's job tracker): every request gets a
// larger id, computeMasks runs on a copy of the session in a worker thread, and the result comes
// back on the GUI thread through a queued call; a result older than the newest request is dropped.
// request()/cancel()/deliver() are GUI-thread only; the worker touches nothing but its own copy.
#include <QObject>
#include <QString>
#include <QThreadPool>

#include <cstdint>
#include <map>
#include <string>

#include "session.h"

namespace mq::ui {

using PlanMap = std::map<std::string, core::GroupPlan>;

class MaskJob : public QObject {
    Q_OBJECT
public:
    explicit MaskJob(QObject* parent = nullptr);
    ~MaskJob() override; // waits for running workers: they post back to this object

    // Starts computeMasks(session, settings) in the background; returns the request's id.
    quint64 request(core::Session session, const core::DabcSettings& settings);
    // Forgets every request made so far: their results will be dropped.
    void cancel() { ++m_latest; }
    quint64 latestId() const { return m_latest; }
    int droppedCount() const { return m_dropped; }
    // Waits for running workers (tests, shutdown); queued results still need the event loop.
    void waitForWorkers() { m_pool.waitForDone(); }

public slots:
    // Called on the GUI thread with a worker's result; returns false (and emits nothing) when the
    // result is stale. Public so tests can feed results deterministically.
    bool deliver(quint64 id, const mq::ui::PlanMap& plans, const QString& error);

signals:
    void masksReady(quint64 id, const mq::ui::PlanMap& plans);
    void failed(quint64 id, const QString& message);

private:
    QThreadPool m_pool;
    quint64 m_latest = 0;
    int m_dropped = 0;
};

} // namespace mq::ui
