#pragma once
// Outliers of one input group: per modality (only those with data), a histogram of per-channel
// max|x| on a log x axis; the plan's clipping bounds alpha as vertical lines (min / median / max
// over channels, or alpha0 and alpha of one selected channel). Below it, on the same log axis, a
// box/whisker summary per modality (quartiles of max|x| over channels; whiskers at the furthest
// channel within 1.5 IQR of the box, channels beyond them drawn as outlier points).
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPGraph;
class QCPAxisRect;
class QCPStatisticalBox;

namespace mq::core {
struct Session;
}

namespace mq::ui {

class OutlierView : public QWidget {
    Q_OBJECT
public:
    explicit OutlierView(QWidget* parent = nullptr);

    // The session must outlive the view or be replaced; nullptr clears.
    void setSession(const core::Session* session);
    void setGroup(const QString& group);  // clears the selected channel
    void setChannel(int channel);         // -1: summary lines over all channels
    QString group() const { return m_group; }

    QCustomPlot* plot() const { return m_plot; }
    // Histogram graphs, one per modality with data, in modality order (step-style: the last
    // point closes the last bin and carries no count of its own).
    const std::vector<QCPGraph*>& histograms() const { return m_graphs; }
    // The alpha lines' x positions, as drawn.
    std::vector<double> alphaLines() const;
    // Box/whisker summaries, one per modality with data, in modality order (key 0, 1, ...).
    const std::vector<QCPStatisticalBox*>& boxes() const { return m_boxes; }
    QCPAxisRect* boxRect() const { return m_boxRect; }

private:
    void rebuild();

    const core::Session* m_session = nullptr;
    QString m_group;
    int m_channel = -1;
    QCustomPlot* m_plot = nullptr;
    std::vector<QCPGraph*> m_graphs;
    std::vector<QCPGraph*> m_lines;
    QCPAxisRect* m_boxRect = nullptr;
    std::vector<QCPStatisticalBox*> m_boxes;
};

} // namespace mq::ui
