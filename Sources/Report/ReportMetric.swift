import Study

/// A column of Table 1: the stored metric, how it is shown, and which way is better.
public struct ReportMetric: Sendable, Equatable {
    /// The name runs store it under (`MetricName`).
    public let name: String
    public let title: String
    public let format: NumberFormat
    /// nil for numbers that are not better either way (parameter counts).
    public let better: Better?
    /// Whether the paper's Table 1 prints it: claims about "all metrics" use these, as the paper did.
    public let printedByPaper: Bool

    /// Table 1's columns, in order: the paper's, BLEU (which it computed but did not print), and
    /// the parameter counts.
    public static let table1: [ReportMetric] = [
        ReportMetric(name: MetricName.testLoss, title: "Test loss", format: .decimals(4), better: .lower, printedByPaper: true),
        ReportMetric(name: MetricName.rouge1, title: "ROUGE-1", format: .decimals(4), better: .higher, printedByPaper: true),
        ReportMetric(name: MetricName.rouge2, title: "ROUGE-2", format: .decimals(4), better: .higher, printedByPaper: true),
        ReportMetric(name: MetricName.rougeL, title: "ROUGE-L", format: .decimals(4), better: .higher, printedByPaper: true),
        ReportMetric(name: MetricName.bleu, title: "BLEU", format: .decimals(4), better: .higher, printedByPaper: false),
        ReportMetric(name: MetricName.clipScore, title: "CLIP score", format: .decimals(4), better: .higher, printedByPaper: true),
        ReportMetric(name: MetricName.mmeOverall, title: "MME overall", format: .decimals(2), better: .higher, printedByPaper: true),
        ReportMetric(name: MetricName.trainableParameters, title: "Trainable", format: .count, better: nil, printedByPaper: false),
        ReportMetric(name: MetricName.parameters, title: "Total", format: .count, better: nil, printedByPaper: false),
    ]

    /// The metrics the paper's Table 1 prints.
    public static var printed: [ReportMetric] { table1.filter(\.printedByPaper) }

    public static func named(_ name: String) -> ReportMetric? { table1.first { $0.name == name } }

    /// Parameter counts describe the model, not the images it saw.
    var describesModel: Bool { better == nil }
}
