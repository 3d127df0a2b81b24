#pragma once
// Sensitivity by modality: a layer x modality heatmap of the quantized model's output error,
// from the session's layer errors (SQNR of every Linear's output per modality of the tokens).
// A cell is the lowest SQNR of the layer's modules for that modality (or their mean); a click
// selects the worst module's input group and that modality in the other views. Columns are
// the pooled tokens and, where two or more were measured, each modality.
#include <QString>
#include <QWidget>

#include <vector>

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QCPTextElement;
class QCPItemText;

namespace mq::core {
struct Session;
}

namespace mq::ui {

class SensitivityView : public QWidget {
    Q_OBJECT
public:
    enum Statistic { Lowest = 0, Mean = 1 };
    explicit SensitivityView(QWidget* parent = nullptr);
    void setSession(const core::Session* session); // nullptr clears; the session must outlive it
    // The session changed in place (the out-of-date mark follows).
    void refresh();
    void setStatistic(Statistic s);
    void setCurrentGroup(const QString& group);

    // What the map shows: its layers (rows), its columns (-1 pooled, else a Modality), the
    // value of a cell (NaN: no token of that modality reached the layer) and the module behind it.
    const std::vector<int>& layers() const { return m_layers; }
    const std::vector<int>& columns() const { return m_columns; }
    double value(int row, int column) const;
    QString moduleAt(int row, int column) const;
    QString groupAt(int row, int column) const;
    QCustomPlot* plot() const { return m_plot; }
    QString title() const;
    // The cell under a widget position of the plot, or (-1, -1).
    std::pair<int, int> cellAt(const QPoint& pos) const;

signals:
    void groupActivated(const QString& group);
    void modalityActivated(int modality); // -1 pooled

private:
    void rebuild();
    void onClick(QMouseEvent* event);

    struct Cell {
        double value;
        QString module, group;
    };
    const core::Session* m_session = nullptr;
    Statistic m_statistic = Lowest;
    QString m_group;
    std::vector<int> m_layers, m_columns;
    std::vector<Cell> m_cells; // row-major, rows = layers
    QComboBox* m_statBox = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_rowMark = nullptr;
    QCPTextElement* m_title = nullptr;
    std::vector<QCPItemText*> m_labels;
};

} // namespace mq::ui
