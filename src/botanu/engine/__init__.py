"""The engine: spans in, costs out. Needs the `engine` extra; `import botanu` never loads it."""
