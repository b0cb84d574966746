import Foundation
@testable import Pipeline
@testable import Study
import Testing

/// The folder that holds this test process's study folders; removed when the process exits, so that
/// the tests leave nothing in the system's temporary folder. (Study folders are often loaded once
/// in an expression, and one is shared by the fault tests' reference run: one removal at exit
/// covers them all, where a removal per test could not.)
let studyFoldersRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("repro-study-tests-\(getpid())")
    atexit { try? FileManager.default.removeItem(at: studyFoldersRoot) }
    return root
}()

/// Study files written into a temporary folder for one test.
struct StudyFolder {
    let url: URL

    init(_ files: [String: String]) throws {
        url = studyFoldersRoot.appendingPathComponent("studies-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("profiles"), withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
    }

    func load(profile: String? = nil) throws -> StudyCatalog { try StudyCatalog.load(directory: url, profile: profile) }

    /// The one-line problems loading reports, with the folder's path shortened to "studies/".
    func problems(profile: String? = nil) -> [String] {
        do {
            _ = try load(profile: profile)
            return []
        } catch let error as StudyErrors {
            return error.errors.map { $0.description.replacingOccurrences(of: url.path + "/", with: "studies/") }
        } catch {
            return ["\(error)".replacingOccurrences(of: url.path + "/", with: "studies/")]
        }
    }
}

let defaults = """
    abstract = true
    [model.text_config]
    hidden_size = 32
    num_attention_heads = 2
    [data]
    vocabulary_size = 300
    """

@Suite struct CatalogTests {
    @Test func extendsAndProfilesMergeIntoOneResolvedStudy() throws {
        let folder = try StudyFolder([
            "defaults.toml": defaults,
            "base.toml": "extends = \"defaults.toml\"\nkind = \"instruct\"\n[train]\nepochs = 2\nlearning_rate = 3e-4\n",
            "exp.toml": "extends = \"base.toml\"\ninit = \"base\"\n[train]\nepochs = 5\n[lora]\nr = 4\nalpha = 8\n",
            "profiles/quick.toml": "[train]\nmax_steps = 3\n[studies.exp]\ntrain = { learning_rate = 1e-3 }\n",
        ])
        let catalog = try folder.load()
        #expect(catalog.studies.map(\.name) == ["base", "exp"], "dependency order; defaults.toml is abstract")
        let exp = try catalog.study(named: "ex")
        #expect(exp.spec.train.epochs == 5 && exp.spec.train.learningRate == 3e-4 && exp.spec.kind == .instruct)
        #expect(exp.spec.model.textConfig.hiddenSize == 32 && exp.spec.model.textConfig.vocabSize == 300)
        #expect(exp.spec.lora.config?.scaling == 2)
        #expect(exp.dependencies == ["base"])
        let quick = try folder.load(profile: "quick")
        #expect(try quick.study(named: "exp").spec.train.maxSteps == 3)
        #expect(try quick.study(named: "exp").spec.train.learningRate == 1e-3)
        #expect(try quick.study(named: "base").spec.train.learningRate == 3e-4)
        #expect(try quick.study(named: "exp").hash != exp.hash)
    }

    /// A profile's `[slurm]` table sets how `repro run --executor slurm` submits, hashes nothing, and
    /// a key it does not take or a value of the wrong type is named.
    @Test func aProfilesSlurmTableSetsTheClusterSettings() throws {
        let study = "extends = \"defaults.toml\"\nkind = \"language\"\n"
        let folder = try StudyFolder([
            "defaults.toml": defaults, "lm.toml": study,
            "profiles/cluster.toml": "[slurm]\npartition = \"gpu\"\ntime = \"1:00:00\"\nsbatch_args = [\"--account=lab\", \"--qos=short\"]\n",
            "profiles/unknown.toml": "[slurm]\nnodes = 2\n",
            "profiles/mistyped.toml": "[slurm]\nsbatch_args = \"--account=lab\"\n",
        ])
        let cluster = try folder.load(profile: "cluster")
        #expect(cluster.cluster == ClusterSettings(partition: "gpu", time: "1:00:00", sbatchArguments: ["--account=lab", "--qos=short"]))
        #expect(try cluster.study(named: "lm").hash == folder.load().study(named: "lm").hash)
        #expect(try folder.load().cluster == ClusterSettings())
        #expect(folder.problems(profile: "unknown") == ["studies/profiles/unknown.toml: slurm.nodes: unknown key; [slurm] takes partition, time and sbatch_args"])
        #expect(folder.problems(profile: "mistyped") == [#"studies/profiles/mistyped.toml: slurm.sbatch_args: expected a list of strings, like ["--account=lab"]"#])
    }

    @Test func hashIgnoresKeyOrderCommentsAndWhitespaceButNotValues() throws {
        let a = try StudyFolder(["defaults.toml": defaults, "s.toml": "extends = \"defaults.toml\"\n[train]\nepochs = 2\nseed = 7\n"])
        let b = try StudyFolder(["defaults.toml": defaults,
                                 "s.toml": "# a comment\nextends   =   \"defaults.toml\"\n\n[train]\nseed = 7   # why\nepochs = 2.0\n"])
        let c = try StudyFolder(["defaults.toml": defaults, "s.toml": "extends = \"defaults.toml\"\n[train]\nepochs = 2\nseed = 8\n"])
        let hash = try a.load().study(named: "s").hash
        #expect(try b.load().study(named: "s").hash == hash)
        #expect(try c.load().study(named: "s").hash != hash)
    }

    @Test func changingAStudyMakesItsDependantsHashChangeToo() throws {
        let files = ["defaults.toml": defaults, "base.toml": "extends = \"defaults.toml\"\n", "exp.toml": "extends = \"defaults.toml\"\ninit = \"base\"\n",
                     "other.toml": "extends = \"defaults.toml\"\n"]
        let before = try StudyFolder(files).load()
        var edited = files
        edited["base.toml"] = "extends = \"defaults.toml\"\n[train]\nseed = 3\n"
        let after = try StudyFolder(edited).load()
        for name in ["base", "exp"] { #expect(try before.study(named: name).hash != after.study(named: name).hash, "\(name)") }
        #expect(try before.study(named: "other").hash == after.study(named: "other").hash)
    }

    @Test(arguments: [
        ("[train]\nepochs = 2\nepoch = 3\n", "studies/s.toml: train.epoch: unknown key (known here: accumulation, answer_word_weight, checkpoint_every, code_answer, code_asked, code_noise, code_short_answer, code_word_weight, count_padding_in_loss, epochs, eval_every, eval_samples, learning_rate, max_grad_norm, max_steps, micro_batch, rows, scene_code_weight, schedule, seed, select_best, skills, threads, token_loss, trainable, warmup_ratio, weight_decay)"),
        ("[train]\nepochs = \"three\"\n", "studies/s.toml: train.epochs: expected a number, got a string"),
        ("[model.text_config]\nnum_attention_heads = 3\n", "studies/s.toml: model.text_config.num_attention_heads: 3 does not divide text_config.hidden_size = 32"),
        ("[lora]\nr = 64\nalpha = 8\n", "studies/s.toml: lora.r: 64 is larger than the layers it adapts (32 wide)"),
        ("init = \"nowhere\"\n", "studies/s.toml: init: names study 'nowhere', which does not exist (studies: s)"),
        ("[train]\nschedule = \"cosin\"\n", "studies/s.toml: train.schedule: Cannot initialize Decay from invalid String value cosin"),
        ("[train]\ntrainable = \"everything\"\n", "studies/s.toml: train.trainable: 'everything' is not all, adapters, paper:N, or a +-joined list of vision, qformer, language"),
        ("[data]\nshapes = [\"circle\"]\n", "studies/s.toml: data.shapes: needs at least two shapes, so that shape questions can be answered no"),
        ("[train]\nscene_code_weight = 1.0\n", "studies/s.toml: train.scene_code_weight: applies only to align and instruct studies, whose images are rendered scenes; set it to 0"),
        ("[train]\ncode_noise = 0.3\n", "studies/s.toml: train.code_noise: applies only to the language stage, which reads scene codes; set it to 0"),
        ("[train]\neval_every = -1\n", "studies/s.toml: train.eval_every: -1 must not be negative (0: about 20 points a run)"),
        ("[train]\ntoken_loss = false\n", "studies/s.toml: train.token_loss: false leaves nothing to train; set train.scene_code_weight above 0"),
        ("[train]\nskills = [\"existence\"]\n", "studies/s.toml: train.skills: applies only to align and instruct studies, which train on the corpus's questions; remove it"),
        ("kind = \"align\"\n[train]\nskills = [\"existance\"]\n", "studies/s.toml: train.skills: 'existance' is not a skill (one of existence, count, position, color, shape, size, fill, background, location, text, comparison, arithmetic, translation, code)"),
        ("[train]\nanswer_word_weight = 1.0\n", "studies/s.toml: train.answer_word_weight: 1.0 needs train.scene_code_weight above 0 (it reads the same scene code)"),
        ("kind = \"align\"\n[train]\nscene_code_weight = 1.0\ncode_answer = false\ncode_asked = false\nanswer_word_weight = 1.0\n", "studies/s.toml: train.answer_word_weight: 1.0 weighs the answer's and the asked words' positions, and the code carries neither; set it to 0"),
        ("[train]\nrows = \"pretrain\"\n", "studies/s.toml: train.rows: 'pretrain' is not finetune or pretraining"),
        ("kind = \"instruct\"\n[train]\nrows = \"pretraining\"\n", "studies/s.toml: train.rows: applies only to finetune studies (the stages train on the pretraining corpus itself); remove it"),
        ("[model.text_config]\nvocab_size = 10\n", "studies/s.toml: model.text_config.vocab_size: unknown key (it follows [data]: vocabulary_size and image_size)"),
    ])
    func eachProblemIsOneLineNamingFileAndKey(study: String, expected: String) throws {
        let folder = try StudyFolder(["defaults.toml": defaults, "s.toml": "extends = \"defaults.toml\"\n" + study])
        #expect(folder.problems() == [expected])
    }

    @Test func brokenExtendsAreReported() throws {
        let missing = try StudyFolder(["s.toml": "extends = \"nothere.toml\"\n"])
        #expect(missing.problems() == ["studies/s.toml: extends: nothere.toml does not exist"])
        let cycle = try StudyFolder(["a.toml": "extends = \"b.toml\"\n", "b.toml": "extends = \"a.toml\"\n"])
        #expect(cycle.problems().first == "studies/a.toml: extends: extends itself through a.toml -> b.toml -> a.toml")
        let startsCycle = try StudyFolder(["defaults.toml": defaults, "a.toml": "extends = \"defaults.toml\"\ninit = \"b\"\n",
                                           "b.toml": "extends = \"defaults.toml\"\ninit = \"a\"\n"])
        #expect(startsCycle.problems().first?.contains("studies start from each other in a cycle: a -> b -> a") == true)
        let syntax = try StudyFolder(["s.toml": "[train\n"])
        #expect(syntax.problems().first?.hasPrefix("studies/s.toml: line 1:") == true)
    }

    @Test func namesResolveExactlyOrByUniquePrefix() throws {
        let folder = try StudyFolder(["defaults.toml": defaults, "exp01-a.toml": "extends = \"defaults.toml\"\n",
                                      "exp02-b.toml": "extends = \"defaults.toml\"\n"])
        let catalog = try folder.load()
        #expect(try catalog.study(named: "exp01").name == "exp01-a")
        #expect(throws: StudyError.self) { try catalog.study(named: "exp0") }
        #expect(throws: StudyError.self) { try catalog.study(named: "exp03") }
    }

    @Test func theProjectsOwnStudiesResolveInBothProfiles() throws {
        let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("studies")
        // The quick profile runs its 3-epoch controls with one seed: max_steps makes them experiments 9-10.
        for (profile, seeds, oneSeed) in [(nil, 3, 0), ("quick", 2, 2)] {
            let catalog = try StudyCatalog.load(directory: studies, profile: profile)
            let finetuning = catalog.studies.filter { $0.spec.kind == .finetune }
            #expect(Set(finetuning.map(\.base)).count == 15, "ten experiments, two ablations, two 3-epoch controls and the positive control")
            #expect(finetuning.count == (15 - oneSeed) * seeds + oneSeed, "each with its seeds")
            #expect(catalog.studies.filter { $0.spec.kind != .finetune }.allSatisfy { $0.name == $0.base }, "one base model")
            #expect(catalog.studies.last?.name.hasPrefix("exp") == true)
        }
        // The paper's sizes keep their order in parameters: small < medium < default < large < extra-large.
        let full = try StudyCatalog.load(directory: studies)
        func parameters(_ name: String) throws -> Int {
            let config = try full.study(named: name).spec.model
            let v = config.visionConfig, q = config.qformerConfig
            return v.numHiddenLayers * v.hiddenSize * (4 * v.hiddenSize + 2 * v.intermediateSize)
                + q.numHiddenLayers * q.hiddenSize * (8 * q.hiddenSize + 4 * q.intermediateSize)
        }
        let ordered = try ["exp02", "exp01", "exp09", "exp05", "exp07"].map(parameters)
        #expect(ordered == ordered.sorted() && Set(ordered).count == 5)
    }

    /// The ablations and controls beside the experiments each change one thing, so that a difference
    /// in their results has one cause.
    @Test func theProjectsControlsAndAblationsChangeOneThingEach() throws {
        let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("studies")
        let catalog = try StudyCatalog.load(directory: studies)
        func resolved(_ name: String) throws -> StudySpec { try catalog.study(named: name).spec }
        func changed(_ name: String, from original: String, _ undo: (inout StudySpec) -> Void) throws -> Bool {
            var spec = try resolved(name), reference = try resolved(original)
            undo(&spec)
            spec.description = reference.description
            return spec == reference
        }
        let lastLayer = try resolved("ablation-last-layer"), exp03 = try resolved("exp03-medium-enhanced")
        #expect(lastLayer.trainedLanguageModelLayers == 1 && exp03.trainedLanguageModelLayers == 4)
        #expect(try changed("ablation-last-layer", from: "exp03-medium-enhanced") { $0.train.trainable = "paper:4" })
        for (control, experiment) in [("control-default-default", "exp09-default-default"), ("control-default-enhanced", "exp10-default-enhanced")] {
            let epochs = (try resolved(control).train.epochs, try resolved(experiment).train.epochs)
            #expect(epochs == (3, 6), "\(control)")
            #expect(try changed(control, from: experiment) { $0.train.epochs = 6 }, "\(control)")
        }
        // The positive control: the 3-epoch default-LoRA control on other rows, its model the base model's (nothing resized).
        let positive = try resolved("control-pretraining-rows"), base = try resolved("instruct"), control = try resolved("control-default-default")
        #expect(positive.train.rows == .pretraining && control.train.rows == .finetune)
        #expect(try changed("control-pretraining-rows", from: "control-default-default") { $0.train.rows = .finetune })
        #expect(positive.model.visionConfig == base.model.visionConfig && positive.model.qformerConfig == base.model.qformerConfig
                && positive.model.textConfig == base.model.textConfig)
    }
}
