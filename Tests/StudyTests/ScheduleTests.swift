import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// Which studies `repro run` trains side by side, on a graph like the paper's: a base study that
/// takes every core, then experiments of one thread each, and one that starts from an experiment.
struct ScheduleTests {
    func catalog() throws -> StudyCatalog {
        let experiment = "extends = \"defaults.toml\"\ninit = \"base\"\n[train]\nthreads = 1\n"
        return try StudyFolder([
            "defaults.toml": defaults, "base.toml": "extends = \"defaults.toml\"\n",
            "exp1.toml": experiment, "exp2.toml": experiment, "exp3.toml": experiment,
            "follow.toml": "extends = \"defaults.toml\"\ninit = \"exp1\"\n[train]\nthreads = 1\n",
        ]).load()
    }

    @Test func studiesStartOnlyAfterTheirInputsAndWithinTheCores() throws {
        var schedule = StudySchedule(try catalog().studies, cores: 2, jobs: 2)
        #expect(schedule.start()?.name == "base")
        #expect(schedule.start() == nil, "the experiments start from base, which is training")
        schedule.finish("base", succeeded: true)
        #expect(schedule.start()?.name == "exp1")
        #expect(schedule.start()?.name == "exp2")
        #expect(schedule.start() == nil, "two one-thread studies fill two cores")
        schedule.finish("exp1", succeeded: true)
        // follow starts from exp1, which is done; exp3 comes first in dependency order either way.
        let third = schedule.start()?.name
        #expect(third == "exp3" || third == "follow")
        schedule.finish("exp2", succeeded: true)
        schedule.finish(third!, succeeded: true)
        #expect(schedule.start() != nil)
        #expect(schedule.waiting.isEmpty)
    }

    @Test func aStudyTakingEveryCoreWaitsForTheOthersToFinish() throws {
        let studies = try catalog().studies.filter { $0.name != "base" }
        // base counts as finished (it is fresh), so the experiments start at once; a study of 0
        // threads (every core) then waits until nothing else trains.
        var schedule = StudySchedule(studies, cores: 2, jobs: 2) { $0.name == "follow" ? 2 : 1 }
        #expect(schedule.start()?.name == "exp1")
        #expect(schedule.start()?.name == "exp2")
        schedule.finish("exp1", succeeded: true)
        #expect(schedule.start()?.name == "exp3")
        schedule.finish("exp2", succeeded: true)
        #expect(schedule.start() == nil, "follow needs both cores while exp3 trains")
        schedule.finish("exp3", succeeded: true)
        #expect(schedule.start()?.name == "follow")
    }

    @Test func jobsCapHowManyTrainAtOnce() throws {
        var schedule = StudySchedule(try catalog().studies.filter { $0.name != "base" }, cores: 8, jobs: 1)
        #expect(schedule.start()?.name == "exp1")
        #expect(schedule.start() == nil)
    }

    @Test func aFailureDropsWhatStartsFromItAndNothingElse() throws {
        var schedule = StudySchedule(try catalog().studies, cores: 2, jobs: 2)
        _ = schedule.start()
        schedule.finish("base", succeeded: true)
        _ = schedule.start()  // exp1
        _ = schedule.start()  // exp2
        #expect(schedule.finish("exp1", succeeded: false) == ["follow"])
        #expect(schedule.waiting.map(\.name) == ["exp3"])
        schedule.finish("exp2", succeeded: true)
        #expect(schedule.start()?.name == "exp3")
        schedule.finish("exp3", succeeded: true)
        #expect(schedule.isDone)
    }

    @Test func threadsMustNotBeNegative() throws {
        let folder = try StudyFolder(["defaults.toml": defaults, "s.toml": "extends = \"defaults.toml\"\n[train]\nthreads = -1\n"])
        #expect(folder.problems() == ["studies/s.toml: train.threads: -1 must not be negative (0: every core)"])
    }
}

extension ScheduleTests {
    @Test func theLongestReadyStudyStartsFirst() throws {
        let experiments = try catalog().studies.filter { $0.name.hasPrefix("exp") }
        let seconds = ["exp1": 60.0, "exp2": 90, "exp3": 75]
        var schedule = StudySchedule(experiments, cores: 2, jobs: 2, estimate: { seconds[$0.name] ?? 0 })
        #expect(schedule.start()?.name == "exp2")
        #expect(schedule.start()?.name == "exp3")
        schedule.finish("exp2", succeeded: true)
        #expect(schedule.start()?.name == "exp1")
    }
}
