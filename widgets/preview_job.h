#pragma once
// Latest-wins live preview of MDQFO for one layer's input groups (Engine::replanGroups on the
// inputs cached by the last quantization), the companion of MaskJob for p, lambda_cos and the
// solver: every request gets a larger id and a stale result is dropped. A cancelled request's
// worker stops at its next CancelToken check. GUI-thread only, except the worker.
#include <QObject>
#include <QString>
#include <QThreadPool>

#include <memory>
#include <vector>

#include "engine.h"

namespace mq::ui {

using PreviewList = std::vector<core::GroupPreview>;

class PreviewJob : public QObject {
    Q_OBJECT
public:
    explicit PreviewJob(std::shared_ptr<core::Engine> engine, QObject* parent = nullptr);
    ~PreviewJob() override; // cancels and waits for the worker

    // MDQFO again for `groups` with `settings`, on a copy of the session's plans.
    quint64 request(const core::Session& session, std::vector<std::string> groups, const core::QuantSettings& settings);
    void cancel();
    quint64 latestId() const { return m_latest; }
    void waitForWorkers() { m_pool.waitForDone(); }

public slots:
    bool deliver(quint64 id, const mq::ui::PreviewList& result, const QString& error, double seconds);

signals:
    // seconds: how long the recompute took on the worker.
    void previewReady(quint64 id, const mq::ui::PreviewList& result, double seconds);
    void failed(quint64 id, const QString& message);

private:
    std::shared_ptr<core::Engine> m_engine;
    QThreadPool m_pool;
    quint64 m_latest = 0;
    std::shared_ptr<core::CancelToken> m_cancel;
};

} // namespace mq::ui
