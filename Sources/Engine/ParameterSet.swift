/// A model's parameters by name, in a fixed order: what the optimizer updates and what a
/// checkpoint holds. A parameter's `requiresGrad` is its trainable flag.
public struct ParameterSet {
    public let tensors: [Tensor]
    private let index: [String: Int]

    /// Every tensor must carry a unique `name`.
    public init(_ tensors: [Tensor]) {
        var index: [String: Int] = [:]
        for (position, tensor) in tensors.enumerated() {
            guard let name = tensor.name else { preconditionFailure("parameter \(position) (shape \(tensor.shape)) has no name") }
            precondition(index.updateValue(position, forKey: name) == nil, "two parameters are named \(name)")
        }
        self.tensors = tensors
        self.index = index
    }

    public subscript(name: String) -> Tensor? { index[name].map { tensors[$0] } }

    public var names: [String] { tensors.map { $0.name! } }
    /// The parameters gradients flow to.
    public var trainable: [Tensor] { tensors.filter(\.requiresGrad) }
    /// Number of scalar parameters, all and trainable.
    public var count: Int { tensors.reduce(0) { $0 + $1.count } }
    public var trainableCount: Int { trainable.reduce(0) { $0 + $1.count } }

    /// Name to tensor, for `SafeTensors.write`.
    public var byName: [String: Tensor] { Dictionary(uniqueKeysWithValues: tensors.map { ($0.name!, $0) }) }

    /// Sets every parameter's trainable flag from its name.
    public func setTrainable(_ isTrainable: (String) -> Bool) {
        for tensor in tensors { tensor.requiresGrad = isTrainable(tensor.name!) }
    }

    /// Copies the values of the parameters (those `include` accepts) that `file` holds with the
    /// same name and shape.
    /// Returns what was loaded and what was not (absent from the file, or of another shape), so
    /// that a caller can record which tensors started fresh.
    public func load(from file: SafeTensors.File, where include: (String) -> Bool = { _ in true }) throws -> (loaded: [String], fresh: [String]) {
        var loaded: [String] = [], fresh: [String] = []
        for tensor in tensors where include(tensor.name!) {
            let name = tensor.name!
            guard let entry = file.entries[name], entry.shape == tensor.shape else {
                fresh.append(name)
                continue
            }
            tensor.copyValues(from: try file.tensor(name))
            loaded.append(name)
        }
        return (loaded, fresh)
    }
}
