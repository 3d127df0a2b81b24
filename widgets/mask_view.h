#pragma once
// The DABC mask of one input group: D_c per channel as bars (masked channels in their own
// colour) and the thresholds tau_local and tau_global as horizontal lines. Hand-edited channels
// carry a marker; a click (not a drag) on a channel's column emits channelClicked.
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QMouseEvent;
class QCPItemStraightLine;
class QCPItemText;
class QCPTextElement;

namespace mq::core {
struct Session;
}

namespace mq::ui {

class MaskView : public QWidget {
    Q_OBJECT
public:
    explicit MaskView(QWidget* parent = nullptr);

    // The session must outlive the view or be replaced; nullptr clears.
    void setSession(const core::Session* session);
    void setGroup(const QString& group);
    QString group() const { return m_group; }
    // Re-reads the session after its plans changed in place.
    void refresh() { rebuild(); }
    // Marks one channel (a vertical line through its bar); -1 clears. Kept across setGroup.
    void setChannel(int channel);
    int channel() const { return m_channel; }
    QCPItemStraightLine* channelLine() const { return m_channelLine; }
    // Channel under a point of the plot widget, -1 if none.
    int channelAt(const QPoint& pos) const;

    QCustomPlot* plot() const { return m_plot; }
    QCPBars* keptBars() const { return m_kept; }     // channels with mask 0
    QCPBars* maskedBars() const { return m_masked; } // channels with mask 1
    QCPGraph* handEditMarks() const { return m_handMarks; } // one point per hand-edited channel
    QCPItemStraightLine* tauLocalLine() const { return m_tauLocal; }
    QCPItemStraightLine* tauGlobalLine() const { return m_tauGlobal; }

signals:
    void channelClicked(const QString& group, int channel);

private:
    void rebuild();
    void onMouseRelease(QMouseEvent* event);

    const core::Session* m_session = nullptr;
    QString m_group;
    QCustomPlot* m_plot = nullptr;
    QCPBars* m_kept = nullptr;
    QCPBars* m_masked = nullptr;
    QCPGraph* m_handMarks = nullptr;
    QPoint m_pressPos;
    QCPItemStraightLine* m_tauLocal = nullptr;
    QCPItemStraightLine* m_tauGlobal = nullptr;
    QCPItemText* m_tauLocalLabel = nullptr;
    QCPItemText* m_tauGlobalLabel = nullptr;
    QCPTextElement* m_title = nullptr; // names the group and what is compensated
    QCPItemStraightLine* m_channelLine = nullptr;
    int m_channel = -1;
};

} // namespace mq::ui
