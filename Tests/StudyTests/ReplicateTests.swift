import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// A study with several seeds: each replicate a study of its own (its seed in its hash and name),
/// the first the study itself; replicates of a replicated input start from the same seed's.
@Suite struct ReplicateTests {
    let experiment = "extends = \"defaults.toml\"\ninit = \"base\"\nreplicates = 3\n[train]\nthreads = 1\n"

    func folder(_ extra: [String: String] = [:]) throws -> StudyFolder {
        try StudyFolder(["defaults.toml": defaults, "base.toml": "extends = \"defaults.toml\"\n", "exp1.toml": experiment,
                         "exp2.toml": experiment].merging(extra) { $1 })
    }

    @Test func eachSeedIsAStudyOfItsOwnAndTheFirstIsTheStudyItself() throws {
        let catalog = try folder().load()
        #expect(catalog.studies.map(\.name) == ["base", "exp1", "exp1@1", "exp1@2", "exp2", "exp2@1", "exp2@2"])
        let replicates = try catalog.replicates(of: "exp1")
        #expect(replicates.map(\.seed) == [0, 1, 2])
        #expect(Set(replicates.map(\.hash)).count == 3, "the seed is part of the hash")
        #expect(replicates.allSatisfy { $0.base == "exp1" && $0.dependencies == ["base"] })
        // The replicate count is not hashed: the first seed's run is the study as it was with one seed.
        let single = try folder(["exp1.toml": experiment.replacingOccurrences(of: "replicates = 3\n", with: "")]).load()
        #expect(try single.study(named: "exp1").hash == replicates[0].hash)
        #expect(try catalog.study(named: "exp1").name == "exp1", "a prefix names the study, not its replicates")
        #expect(try catalog.study(named: "exp1@2").seed == 2)
        #expect(try catalog.closure(of: ["exp1"]).map(\.name) == ["base", "exp1", "exp1@1", "exp1@2"])
        #expect(try catalog.closure(of: ["exp1@1"]).map(\.name) == ["base", "exp1@1"])
    }

    @Test func seedsOnTheCommandLineReplaceAStudysSeeds() throws {
        let folder = try folder()
        let named = try StudyCatalog.load(directory: folder.url, seeds: SeedChoice(parsing: "0-4", studies: ["exp2"]))
        #expect(try named.replicates(of: "exp2").map(\.seed) == [0, 1, 2, 3, 4])
        #expect(try named.replicates(of: "exp1").count == 3, "only the named study")
        let every = try StudyCatalog.load(directory: folder.url, seeds: SeedChoice(parsing: "2"))
        #expect(try every.replicates(of: "exp1").map(\.seed) == [0, 1])
        #expect(try every.replicates(of: "base").count == 1, "a study that does not replicate keeps its one seed")
        let listed = try StudyCatalog.load(directory: folder.url, seeds: SeedChoice(parsing: "3,5", studies: ["exp1"]))
        #expect(try listed.replicates(of: "exp1").map(\.name) == ["exp1@3", "exp1@5"])
    }

    @Test func badSeedsAreOneLineNamingTheValue() throws {
        func problem(_ text: String) -> String? {
            do { _ = try SeedChoice(parsing: text); return nil } catch { return "\(error)" }
        }
        #expect(problem("4-2") == "--seeds 4-2: the range runs backwards; write 2-4")
        #expect(problem("x") == "--seeds x: not a seed count, list or range; give a count (3), a list (0,2,5) or a range (0-4) of seeds")
        #expect(problem("0") == "--seeds 0: a seed count must be at least 1; give a count (3), a list (0,2,5) or a range (0-4) of seeds")
        #expect(problem("1,1") == "--seeds 1,1: a seed is listed twice")
        #expect(problem("0-4") == nil && problem("3") == nil && problem("0,2,5") == nil)
        #expect(try folder(["exp1.toml": experiment.replacingOccurrences(of: "replicates = 3", with: "replicates = 0")]).problems()
            == ["studies/exp1.toml: replicates: 0 must be at least 1 (one seed: the study itself)"])
        #expect(try folder(["exp@1.toml": "extends = \"defaults.toml\"\n"]).problems()
            == ["studies/exp@1.toml: has '@' in its name, which names a study's replicates (exp03@1); rename the file"])
    }

    @Test func aProfileReplicatesTheStudiesThatReplicateOrTheOnesItNames() throws {
        let folder = try folder()
        try "replicates = 2\n".write(to: folder.url.appendingPathComponent("profiles/two.toml"), atomically: true, encoding: .utf8)
        let two = try folder.load(profile: "two")
        #expect(try two.replicates(of: "exp1").count == 2)
        #expect(try two.replicates(of: "base").count == 1, "a profile-wide count leaves the stages that do not replicate")
        // A robustness profile replicates the base as well: each replicate starts from the same seed's base.
        try "[studies.base]\nreplicates = 2\n".write(to: folder.url.appendingPathComponent("profiles/robust.toml"), atomically: true, encoding: .utf8)
        let robust = try folder.load(profile: "robust")
        #expect(try robust.replicates(of: "base").map(\.name) == ["base", "base@1"])
        #expect(try robust.study(named: "exp1@1").dependencies == ["base@1"])
        #expect(try robust.study(named: "exp1@2").dependencies == ["base"], "no third seed of base: the study itself")
        #expect(try robust.study(named: "exp1@1").input("base") == "base@1", "it loads the same seed's weights")
        #expect(try robust.study(named: "exp1@2").input("base") == "base")
        // Seeds that leave out an input's own seed: the others start from its first replicate.
        let shifted = try StudyCatalog.load(directory: folder.url, seeds: SeedChoice(parsing: "1,2", studies: ["base"]))
        #expect(try shifted.study(named: "exp1").dependencies == ["base@1"])
        #expect(try shifted.study(named: "exp1@2").dependencies == ["base@2"])
        #expect(try robust.study(named: "exp1@1").hash != (try folder.load().study(named: "exp1@1").hash), "its input's hash is in its own")
    }

    @Test func theRobustnessProfileReplicatesTheWholeBaseModel() throws {
        let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("studies")
        let catalog = try StudyCatalog.load(directory: studies, profile: "robustness")
        for stage in ["vision", "language", "align", "instruct"] { #expect(try catalog.replicates(of: stage).count == 4) }
        #expect(Set(try catalog.study(named: "instruct@3").dependencies) == ["align@3", "clip"])
        #expect(Set(try catalog.study(named: "align@3").dependencies) == ["language@3", "vision@3"])
        #expect(catalog.studies.filter { $0.spec.kind == .finetune }.allSatisfy { $0.name == $0.base && $0.dependencies.contains("instruct") })
    }

    @Test func replicatesTrainSideBySideAfterTheirInputs() throws {
        var schedule = StudySchedule(try folder().load().studies, cores: 2, jobs: 2)
        #expect(schedule.start()?.name == "base")
        #expect(schedule.start() == nil)
        schedule.finish("base", succeeded: true)
        let started = [schedule.start()?.name, schedule.start()?.name]
        #expect(started == ["exp1", "exp1@1"])
        #expect(schedule.start() == nil, "two one-thread runs fill two cores")
    }
}
