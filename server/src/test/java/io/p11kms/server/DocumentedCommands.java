package io.p11kms.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code p11kms ...} command lines of a Markdown file's fenced code blocks, split into
 * arguments as a shell would: a command is {@code p11kms} (or a path ending in it) at the start of
 * a line, after {@code $ } in a transcript (a block with such prompts counts only those lines),
 * inside {@code $(...)} or after {@code |}, {@code ;}, {@code &&} or {@code ||}, followed by a
 * word. Backslash continuations are joined; quotes are removed; a {@code #} word ends the line; a
 * {@code <placeholder>} is one word even with spaces. Synopsis notation ({@code [--opt X]...}) and
 * an elided part ({@code ...}) are taken out, and the command is marked {@link Command#elided}.
 */
final class DocumentedCommands {
  private static final Pattern COMMAND = Pattern.compile("(.*/)?p11kms");
  private static final Pattern ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*");
  private static final Pattern SUBCOMMAND_OR_OPTION = Pattern.compile("-{0,2}[a-z][a-z0-9-]*");

  /**
   * One documented command.
   *
   * @param where {@code file:line} of its first line
   * @param text the line as written (continuations joined)
   * @param args the arguments after {@code p11kms}
   * @param elided whether the line leaves a part out, so required options may be missing
   */
  record Command(String where, String text, List<String> args, boolean elided) {
    @Override
    public String toString() {
      return where + ": " + text;
    }
  }

  private DocumentedCommands() {}

  /** The commands of {@code file}, named by {@code name} (its path as a reader finds it). */
  static List<Command> of(Path file, String name) throws IOException {
    return of(Files.readString(file), name);
  }

  static List<Command> of(String markdown, String name) {
    List<Command> commands = new ArrayList<>();
    List<String> lines = markdown.lines().toList();
    int blockStart = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).strip().startsWith("```")) {
        continue;
      }
      if (blockStart < 0) {
        blockStart = i + 1;
      } else {
        block(lines, blockStart, i, name, commands);
        blockStart = -1;
      }
    }
    return commands;
  }

  private static void block(
      List<String> lines, int from, int to, String name, List<Command> commands) {
    boolean transcript =
        lines.subList(from, to).stream().anyMatch(l -> l.stripLeading().startsWith("$ "));
    for (int i = from; i < to; i++) {
      int first = i;
      StringBuilder text = new StringBuilder(lines.get(i).strip());
      while (text.toString().endsWith("\\") && i + 1 < to) {
        text.setLength(text.length() - 1);
        text.append(' ').append(lines.get(++i).strip());
      }
      String line = text.toString();
      if (transcript) {
        if (!line.startsWith("$ ")) {
          continue;
        }
        line = line.substring(2);
      }
      for (List<String> words : simpleCommands(line)) {
        command(words, name + ":" + (first + 1), line).ifPresent(commands::add);
      }
    }
  }

  private static Optional<Command> command(List<String> words, String where, String line) {
    int start = 0;
    while (start < words.size() && ASSIGNMENT.matcher(words.get(start)).matches()) {
      start++;
    }
    if (words.size() - start < 2
        || !COMMAND.matcher(words.get(start)).matches()
        || !SUBCOMMAND_OR_OPTION.matcher(words.get(start + 1)).matches()) {
      return Optional.empty();
    }
    List<String> args = new ArrayList<>();
    boolean elided = false;
    for (String word : words.subList(start + 1, words.size())) {
      String plain = word.replace("[", "").replace("]", "");
      if (plain.endsWith("...")) {
        plain = plain.substring(0, plain.length() - 3);
      }
      if (!plain.equals(word)) {
        elided = true;
      }
      if (!plain.isEmpty() || word.isEmpty()) {
        args.add(plain);
      }
    }
    return Optional.of(new Command(where, line, List.copyOf(args), elided));
  }

  /** The simple commands of one shell line, each as its words. */
  static List<List<String>> simpleCommands(String line) {
    List<List<String>> commands = new ArrayList<>();
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    int i = 0;
    while (i < line.length()) {
      char c = line.charAt(i);
      if (c == '\'' || c == '"') {
        int end = closing(line, i);
        word = word == null ? new StringBuilder() : word;
        word.append(line, i + 1, end);
        i = end + 1;
      } else if (c == '<' && line.indexOf('>', i) > i) {
        int end = line.indexOf('>', i);
        word = word == null ? new StringBuilder() : word;
        word.append(line, i, end + 1);
        i = end + 1;
      } else if (Character.isWhitespace(c)) {
        word = flush(word, words);
        i++;
      } else if (c == '#' && word == null) {
        break;
      } else if (c == '$' && i + 1 < line.length() && line.charAt(i + 1) == '(') {
        word = flush(word, words);
        commands.add(words);
        words = new ArrayList<>();
        i += 2;
      } else if (c == '|' || c == ';' || c == '&' || c == ')' || c == '>') {
        // A redirection's target starts a run of words that is no p11kms command.
        word = flush(word, words);
        commands.add(words);
        words = new ArrayList<>();
        i++;
      } else {
        word = word == null ? new StringBuilder() : word;
        word.append(c);
        i++;
      }
    }
    flush(word, words);
    commands.add(words);
    commands.removeIf(List::isEmpty);
    return commands;
  }

  /** The index of the quote that closes the one at {@code open}; the line's end if none does. */
  private static int closing(String line, int open) {
    int end = line.indexOf(line.charAt(open), open + 1);
    return end < 0 ? line.length() : end;
  }

  private static StringBuilder flush(StringBuilder word, List<String> words) {
    if (word != null) {
      words.add(word.toString());
    }
    return null;
  }
}
