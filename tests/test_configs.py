import pytest

from electra_tf import configs


def test_presets_match_the_paper():
  small = configs.load_experiment("small")
  disc, gen = small.model.discriminator, small.model.generator()
  assert (disc.embedding_size, disc.hidden_size, disc.num_layers,
          disc.num_attention_heads, disc.intermediate_size) == (128, 256, 12, 4,
                                                                1024)
  assert (gen.hidden_size, gen.num_attention_heads, gen.intermediate_size,
          gen.embedding_size, gen.num_layers) == (64, 1, 256, 128, 12)
  assert (small.train.learning_rate, small.train.batch_size,
          small.train.num_train_steps) == (5e-4, 128, 1_000_000)
  assert disc.hidden_act == "gelu" and disc.layer_norm_eps == 1e-12

  assert configs.load_experiment("small++").model.generator().hidden_size == 256
  base = configs.load_experiment("base").model
  assert (base.generator().hidden_size, base.generator().num_attention_heads,
          base.generator().intermediate_size) == (256, 4, 1024)
  large = configs.load_experiment("large").model
  assert (large.discriminator.num_layers, large.discriminator.hidden_size,
          large.generator().hidden_size) == (24, 1024, 256)
  assert {"tiny", "small", "small++", "base", "large"} <= set(
      configs.preset_names())


def test_override_and_yaml_path(tmp_path):
  config = configs.load_experiment(
      "tiny", "train.batch_size=4,model.discriminator.hidden_act=gelu_tanh")
  assert config.train.batch_size == 4
  assert config.model.generator().hidden_act == "gelu_tanh"
  path = tmp_path / "exp.yaml"
  path.write_text("model:\n  generator_size: 1.0\n")
  assert configs.load_experiment(str(path)).model.generator_size == 1.0


@pytest.mark.parametrize("override, message", [
    ("train.bogus=1", "bogus"),
    ("model.discriminator.num_attention_heads=3", "divisible"),
    ("model.discriminator.hidden_act=swishy", "hidden_act"),
    ("model.discriminator.hidden_dropout_prob=1.5", "hidden_dropout_prob"),
    ("model.generator_size=0.0", "generator_size"),
    ("train.seq_length=4096", "max_position_embeddings"),
])
def test_bad_values_are_named(override, message):
  with pytest.raises((KeyError, ValueError), match=message):
    configs.load_experiment("tiny", override)


def test_unknown_preset_lists_the_presets():
  with pytest.raises(FileNotFoundError, match="small"):
    configs.load_experiment("medium")


def test_squad_settings_are_checked_only_for_squad(tmp_path):
  from electra_tf.tasks import question_answering  # pylint: disable=g-import-not-at-top
  # A classification run may shorten sequences below SQuAD's query length.
  config = configs.load_experiment("small", "finetune.max_seq_length=64")
  assert config.finetune.max_query_length == 64
  squad = tmp_path / "dev.json"
  squad.write_text('{"data": []}', encoding="utf-8")
  with pytest.raises(ValueError, match=(
      r"finetune.max_query_length \(64\) leaves no room for the passage in "
      r"finetune.max_seq_length \(64\).*below 61 \(e.g. 32\)")):
    question_answering.QuestionAnsweringTask(
        {"dev": [str(squad)]}, None, config.finetune)


def test_generator_sizes_of_its_own():
  model = configs.load_experiment(
      "small", "model.generator_hidden_size=64,"
      "model.generator_num_attention_heads=2,"
      "model.generator_intermediate_size=128,model.generator_num_layers=6"
  ).model
  generator = model.generator()
  assert (generator.hidden_size, generator.num_attention_heads,
          generator.intermediate_size, generator.num_layers,
          generator.embedding_size) == (64, 2, 128, 6, 128)
  # Unset sizes still follow generator_size (a quarter of small's).
  half = configs.load_experiment("small",
                                 "model.generator_num_layers=6").model
  assert (half.generator().hidden_size, half.generator().num_layers) == (64, 6)
  with pytest.raises(ValueError, match="generator_num_layers must be an "
                     "integer >= 0"):
    configs.load_experiment("small", "model.generator_num_layers=-1")


# (embedding, hidden, layers, heads, intermediate) in the config.json files of
# google/electra-{small,base,large}-{discriminator,generator}.
RELEASED = {
    "small++": ((128, 256, 12, 4, 1024), (128, 256, 12, 4, 1024)),
    "base": ((768, 768, 12, 12, 3072), (768, 256, 12, 4, 1024)),
    "large": ((1024, 1024, 24, 16, 4096), (1024, 256, 24, 4, 1024)),
}


@pytest.mark.parametrize("preset", sorted(RELEASED))
def test_presets_have_the_released_models_sizes(preset):
  model = configs.load_experiment(preset).model
  sizes = lambda c: (c.embedding_size, c.hidden_size, c.num_layers,  # noqa
                     c.num_attention_heads, c.intermediate_size)
  assert (sizes(model.discriminator), sizes(model.generator())) == (
      RELEASED[preset])
  assert model.discriminator.max_position_embeddings == 512


@pytest.mark.parametrize("override, message", [
    ("train.learning_rate=fast",
     "train.learning_rate must be a number, got 'fast'"),
    ("model.generator_size=half",
     "model.generator_size must be a number, got 'half'"),
    ("train.weight_decay=abc", "train.weight_decay must be a number"),
    ("train.batch_size=2.5", "train.batch_size must be an integer, got 2.5"),
    ("finetune.answerable_classifier=3",
     "finetune.answerable_classifier must be true or false"),
    ("finetune.dropout_rate=1.5", r"finetune.dropout_rate must be in \[0, 1\)"),
    ("train.weight_decay=-1", "train.weight_decay must be >= 0, got -1"),
    ("train.learnin_rate=1e-3",
     "unknown config key train.learnin_rate; did you mean train.learning_rate"),
])
def test_wrong_kinds_and_typos_name_the_key(override, message):
  with pytest.raises((KeyError, ValueError), match=message):
    configs.load_experiment("tiny", override)


def test_a_yaml_typo_names_the_file_and_the_closest_key(tmp_path):
  path = tmp_path / "exp.yaml"
  path.write_text("model:\n  discriminator:\n    hidden_sise: 64\n")
  with pytest.raises(KeyError, match=(
      f"{path}: unknown config key model.discriminator.hidden_sise; did you "
      "mean model.discriminator.hidden_size")):
    configs.load_experiment(str(path))
