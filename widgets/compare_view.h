#pragma once
// Two recipes side by side: the open session (A) against another session of the same model, or
// a snapshot of an earlier plan (B). Above, each plan's label, perplexity, KL divergence and
// cost; below, every Linear's SQNR under each plan and the difference B - A as a sortable table
// and a bar chart in network order. The channels whose DABC mask differs are listed by group
// (maskDifferences) for the heatmap to mark.
#include <QString>
#include <QWidget>

#include <map>
#include <memory>
#include <string>
#include <vector>

class QCustomPlot;
class QCPBars;
class QLabel;
class QSplitter;
class QTableWidget;

namespace mq::core {
struct Session;
}

namespace mq::ui {

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);
    ~CompareView() override;
    // A: the window's session (must outlive the view or be replaced; nullptr clears).
    void setSession(const core::Session* a);
    // B: a copy kept by the view; `title` names it (file name or "snapshot"). Returns an empty
    // string, or why B cannot be compared with A (another model: different Linears).
    QString setOther(const core::Session& b, const QString& title);
    void clearOther();
    bool hasOther() const { return m_other != nullptr; }
    const core::Session* other() const { return m_other.get(); }
    // A changed in place (a new plan, new errors).
    void refresh();

    // Channels whose mask differs between A and B, by input group (groups of equal width).
    std::map<std::string, std::vector<int>> maskDifferences() const;

    QTableWidget* table() const { return m_table; }
    QCustomPlot* plot() const { return m_plot; }
    QLabel* header() const { return m_header; }
    // Per module in network order: SQNR of A and B (NaN where not measured).
    struct Row {
        QString module, shortName, kind, group;
        int layer = -1;
        double a, b;
    };
    const std::vector<Row>& rows() const { return m_rows; }

signals:
    void groupActivated(const QString& group);
    void otherChanged(); // B set or cleared: the heatmap's marks follow

private:
    void rebuild();
    static QString describe(const core::Session& s, const QString& name);

    const core::Session* m_a = nullptr;
    std::unique_ptr<core::Session> m_other;
    QString m_otherTitle;
    std::vector<Row> m_rows;
    QLabel* m_header = nullptr;
    QTableWidget* m_table = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPBars* m_better = nullptr;
    QCPBars* m_worse = nullptr;
    QSplitter* m_split = nullptr;
};

} // namespace mq::ui
