#pragma once
// The layer error table: SQNR (dB) and cosine similarity of every quantized Linear's output,
// pooled and per modality (columns only for modalities the calibration data had), sortable by
// any column; above it, full-precision vs quantized perplexity when the session has evaluations.
// A double click (or Enter) on a row selects that module's input group in the other views.
#include <QAbstractTableModel>
#include <QWidget>

#include <vector>

#include "calib/channel_stats.h"

class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace mq::core {
struct Session;
struct ModuleError;
}

namespace mq::ui {

class LayerErrorModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role { SortRole = Qt::UserRole + 1, GroupRole, ModuleRole /* the Linear's full name */ };
    explicit LayerErrorModel(QObject* parent = nullptr);

    void setSession(const core::Session* session); // nullptr clears; the session must outlive it
    // Whether the errors were measured under another plan than the session's (after a mask or
    // threshold edit): the figures are drawn grey and their tool tips say so.
    bool isStale() const { return m_stale; }
    void refreshStale();

    // Column layout: Module, Layer, Kind, then (SQNR, cosine) for pooled and each modality shown.
    int modalityOfColumn(int column) const;  // -1 pooled, -2 not an error column, else Modality
    bool isCosineColumn(int column) const;
    // Column of (modality or -1 for pooled, cosine?) or -1 when not shown.
    int columnOf(int modality, bool cosine) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row {
        const core::ModuleError* error;
        QString name, kind, group;
        int layer;
    };
    const core::Session* m_session = nullptr;
    std::vector<Row> m_rows;
    std::vector<int> m_modalities; // -1 pooled first, then the modalities with tokens
    bool m_stale = false;
};

class LayerErrorView : public QWidget {
    Q_OBJECT
public:
    explicit LayerErrorView(QWidget* parent = nullptr);
    void setSession(const core::Session* session);
    // The session changed in place (a mask, bound or threshold edit): out-of-date marks and the
    // header lines follow without resetting the table.
    void refresh();
    // The line above the table that says the figures are out of date (hidden when current).
    QLabel* staleLabel() const { return m_stale; }

    LayerErrorModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QLabel* perplexityLabel() const { return m_ppl; }

signals:
    void groupActivated(const QString& group);

private:
    LayerErrorModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_table;
    QLabel* m_ppl;
    QLabel* m_stale;
    const core::Session* m_session = nullptr;
    void updateText();
};

} // namespace mq::ui
