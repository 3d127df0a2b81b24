#pragma once
// MDQFO loss curves of one input group: L_p, L_cos and their weighted total per step. While a
// quantization runs, the view follows it: showLive() draws the curve of the group MDQFO just
// finished (titled as such) until clearLive() returns to the session's curve of the selected group.
#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPTextElement;

namespace mq::core {
struct Session;
struct LossCurve;
}

namespace mq::ui {

class LossCurveView : public QWidget {
    Q_OBJECT
public:
    explicit LossCurveView(QWidget* parent = nullptr);

    // The session must outlive the view or be replaced; nullptr clears.
    void setSession(const core::Session* session);
    void setGroup(const QString& group);
    // Live mode: shows `curve` (not the session's) with `caption` above the plot.
    void showLive(const core::LossCurve& curve, const QString& caption);
    void clearLive();
    // The session's curves were computed under an earlier plan: the title says so, the curves
    // are drawn faded.
    void setOutOfDate(bool outOfDate);
    bool isOutOfDate() const { return m_outOfDate; }
    bool isLive() const { return m_live; }
    QString caption() const;

    QCustomPlot* plot() const { return m_plot; }
    QCPGraph* lpGraph() const { return m_lp; }
    QCPGraph* cosGraph() const { return m_cos; }
    QCPGraph* totalGraph() const { return m_total; }

private:
    void rebuild();
    void setPoints(const core::LossCurve* curve);

    const core::Session* m_session = nullptr;
    QString m_group;
    QCustomPlot* m_plot = nullptr;
    QCPGraph* m_lp = nullptr;
    QCPGraph* m_cos = nullptr;
    QCPGraph* m_total = nullptr;
    QCPTextElement* m_title = nullptr;
    bool m_live = false;
    bool m_outOfDate = false;
};

} // namespace mq::ui
