/// Generated filler prose: varied sentences from templates and word lists, grouped into paragraphs, with no
/// digits (so nothing in it can be mistaken for a fact's value). Deterministic from its generator.
public struct ProseFiller: FillerSource {
    var generator: SeededRandom
    var left = 0

    public init(generator: SeededRandom) {
        self.generator = generator
    }

    public mutating func next() -> FillerUnit {
        let start = left == 0
        if start { left = 3 + generator.int(below: 5) }
        left -= 1
        return FillerUnit(text: sentence(), paragraphStart: start)
    }

    static let subjects = [
        "the harbour master", "a retired botanist", "the village council", "our neighbour", "the night-shift baker",
        "a travelling musician", "the museum guide", "the young apprentice", "an old ferryman", "the librarian",
        "a group of hikers", "the head gardener", "the weather station crew", "a visiting historian",
        "the choir director", "the orchard owner", "a quiet carpenter", "the postmistress",
    ]
    static let verbs = [
        "repaired", "painted", "described", "photographed", "measured", "cleaned", "inspected", "sketched",
        "rearranged", "catalogued", "admired", "restored", "carried", "studied", "mended", "polished",
    ]
    static let objects = [
        "the wooden bridge", "a faded map of the coast", "the copper weathervane", "an album of pressed flowers",
        "the chapel's stained glass", "a stack of letters", "the garden wall", "the clock above the square",
        "a basket of river stones", "the narrow staircase", "an unfinished quilt", "the lantern by the pier",
        "a shelf of cookbooks", "the greenhouse roof", "the brass telescope", "a chest of winter blankets",
    ]
    static let times = [
        "early in the morning", "after the autumn fair", "during a long thunderstorm", "before the first frost",
        "on a windless afternoon", "late one evening", "at the end of the harvest", "while the tide was out",
        "over several quiet weeks", "just after sunrise", "in the middle of winter", "on the longest day of summer",
    ]
    static let since = [
        "the autumn fair", "the first frost", "last winter", "the great flood", "the old mayor retired",
        "the railway closed", "the spring festival", "the roof was mended", "the school reopened", "the long drought",
    ]
    static let places = [
        "near the old mill", "behind the market hall", "along the canal", "at the edge of the forest",
        "beside the railway cutting", "in the walled garden", "on the hill above the town", "by the fishing huts",
        "under the chestnut trees", "across from the bakery", "inside the boathouse", "at the foot of the cliffs",
    ]
    static let adjectives = [
        "patient", "careful", "cheerful", "thoughtful", "unhurried", "curious", "meticulous", "generous",
        "weary", "delighted", "stubborn", "gentle",
    ]
    static let observations = [
        "the light changed slowly over the water", "gulls circled above the rooftops",
        "the smell of bread drifted down the lane", "a cold wind came in from the sea",
        "children were chasing each other around the fountain", "the bells rang for the evening service",
        "rain had left puddles across the cobbles", "the fields had turned a deep shade of gold",
        "someone was playing an accordion in a nearby courtyard", "the market stalls were being packed away",
        "fog settled quietly in the valley", "the swallows had returned to the barn",
    ]
    static let reflections = [
        "Nobody could remember when it had last been done so well.",
        "It was the kind of work that rewards patience more than skill.",
        "Many people in the town still talk about that season.",
        "Small tasks like this kept the place feeling cared for.",
        "The result was modest, but it pleased everyone who saw it.",
        "Some said it was a waste of time, though most disagreed.",
        "Visitors often stopped to ask how it had been done.",
        "In the end, the effort turned out to be worth it.",
    ]

    mutating func word(_ list: [String]) -> String {
        generator.pick(list)
    }

    mutating func sentence() -> String {
        switch generator.int(below: 7) {
        case 0:
            return capitalized("\(word(Self.subjects)) \(word(Self.verbs)) \(word(Self.objects)) \(word(Self.times)).")
        case 1:
            return capitalized("\(word(Self.times)), \(word(Self.observations)) \(word(Self.places)).")
        case 2:
            return capitalized(
                "\(word(Self.subjects)), \(word(Self.adjectives)) as always, \(word(Self.verbs)) \(word(Self.objects)) \(word(Self.places))."
            )
        case 3:
            return word(Self.reflections)
        case 4:
            return capitalized(
                "while \(word(Self.subjects)) \(word(Self.verbs)) \(word(Self.objects)), \(word(Self.observations)).")
        case 5:
            return capitalized(
                "\(word(Self.places)), \(word(Self.subjects)) found \(word(Self.objects)) and decided to keep it.")
        default:
            return capitalized(
                "according to \(word(Self.subjects)), \(word(Self.objects)) had not been touched since \(word(Self.since))."
            )
        }
    }

    func capitalized(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst()
    }
}
