#pragma once
// MDQFO loss curves of one input group: L_p, L_cos and their weighted total per step.
#include <QWidget>

class QCustomPlot;
class QCPGraph;

namespace mq::core {
struct Session;
}

namespace mq::ui {

class LossCurveView : public QWidget {
    Q_OBJECT
public:
    explicit LossCurveView(QWidget* parent = nullptr);

    // The session must outlive the view or be replaced; nullptr clears.
    void setSession(const core::Session* session);
    void setGroup(const QString& group);

    QCustomPlot* plot() const { return m_plot; }
    QCPGraph* lpGraph() const { return m_lp; }
    QCPGraph* cosGraph() const { return m_cos; }
    QCPGraph* totalGraph() const { return m_total; }

private:
    void rebuild();

    const core::Session* m_session = nullptr;
    QString m_group;
    QCustomPlot* m_plot = nullptr;
    QCPGraph* m_lp = nullptr;
    QCPGraph* m_cos = nullptr;
    QCPGraph* m_total = nullptr;
};

} // namespace mq::ui
