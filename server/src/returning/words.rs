//! The words of recovery phrases: 256 (8 bits each) concrete, friendly words a child can read
//! and spell, none of them about harm. A phrase of ten is 80 random bits.

pub const WORDS: [&str; 256] = [
    "acorn", "actor", "album", "alpine", "amber", "anchor", "apple", "apricot", "arch", "arrow", "atlas", "autumn",
    "avocado", "badge", "bagel", "bakery", "balloon", "bamboo", "banana", "banjo", "barley", "basket", "beach",
    "beacon", "bean", "bear", "beaver", "bell", "berry", "bicycle", "biscuit", "blanket", "blossom", "boat", "bonnet",
    "book", "boot", "bottle", "bramble", "bread", "breeze", "brick", "bridge", "brook", "broom", "bubble", "bucket",
    "budgie", "bunny", "butter", "button", "cabin", "cactus", "cake", "camel", "camera", "canal", "candle", "canoe",
    "canyon", "carrot", "castle", "cello", "cherry", "chess", "chestnut", "chimney", "cinema", "circus", "city",
    "clock", "cloud", "clover", "coconut", "comet", "compass", "cookie", "coral", "cotton", "crayon", "cricket",
    "crystal", "cupcake", "curtain", "daisy", "dancer", "desert", "diamond", "dolphin", "domino", "donkey", "dragon",
    "drum", "duck", "eagle", "easel", "echo", "emerald", "engine", "falcon", "feather", "fern", "ferry", "fiddle",
    "field", "fig", "finch", "firefly", "flag", "flute", "forest", "fountain", "fox", "frog", "garden", "garlic",
    "gate", "gecko", "giraffe", "glacier", "globe", "goose", "grape", "guitar", "hammock", "harbour", "harp", "hazel",
    "helmet", "heron", "hill", "honey", "horizon", "husky", "igloo", "island", "ivy", "jacket", "jam", "jelly",
    "jigsaw", "juggler", "kayak", "kettle", "kite", "kitten", "koala", "ladder", "lagoon", "lake", "lantern", "lemon",
    "letter", "lighthouse", "lily", "lime", "lion", "llama", "lobster", "locket", "lollipop", "magnet", "mango",
    "maple", "marble", "meadow", "melon", "meteor", "mint", "mirror", "mitten", "monkey", "moon", "moose", "mountain",
    "muffin", "mushroom", "nectar", "needle", "nest", "noodle", "nutmeg", "oak", "oasis", "ocean", "olive", "onion",
    "orange", "orbit", "orchard", "otter", "owl", "paddle", "pancake", "panda", "paper", "parrot", "pasta", "peach",
    "peanut", "pebble", "pelican", "penguin", "pepper", "piano", "picnic", "pillow", "pine", "planet", "plum",
    "pocket", "pony", "poppy", "potato", "puffin", "pumpkin", "puzzle", "quilt", "rabbit", "radio", "rainbow",
    "raven", "ribbon", "river", "robin", "rocket", "rose", "saddle", "sailor", "salmon", "sandal", "satchel",
    "saucer", "scarf", "seal", "shell", "ship", "silver", "skate", "sled", "snail", "snowflake", "sofa", "sparrow",
    "spider", "spoon", "squirrel", "star", "stream", "sugar", "summit", "sunflower", "swan", "teapot", "tiger",
    "toast",
];
