using System.Collections.Concurrent;

namespace ThermoLearn.IO;

/// <summary>
/// Writes a file under a temporary name in the same folder and renames it when complete. The temporary files being
/// written are tracked so that an interrupted process (Ctrl-C, SIGTERM) can remove them (<see cref="DeletePending"/>).
/// Internal: the library's writers call it, and code outside the library writes through <see cref="OutputFile"/>.
/// </summary>
internal static class AtomicFile
{
    private static readonly ConcurrentDictionary<string, byte> Pending = new();

    /// <summary>Deletes every temporary file still being written; returns how many were removed. For signal handlers.</summary>
    public static int DeletePending()
    {
        int removed = 0;
        foreach (string path in Pending.Keys)
        {
            if (TryDelete(path)) removed++;
            Pending.TryRemove(path, out _);
        }
        return removed;
    }

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder))
            throw new InvalidInputException($"{path}: the folder '{folder}' does not exist.");
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Pending[temporary] = 0;
        try
        {
            // Read access too: HDF5 writers seek back and read what they wrote (superblock, object headers).
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                write(stream);
            }
            File.Move(temporary, full, overwrite: true);
            Pending.TryRemove(temporary, out _);
        }
        catch (UnauthorizedAccessException e)
        {
            TryDelete(temporary);
            throw new InvalidInputException($"{path}: cannot write here ({e.Message}).", e);
        }
        catch (IOException e)
        {
            TryDelete(temporary);
            throw new InvalidInputException($"{path}: write failed ({e.Message}).", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes text atomically.</summary>
    public static void WriteText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s); w.Write(text); });

    private static bool TryDelete(string path)
    {
        Pending.TryRemove(path, out _);
        try
        {
            if (!File.Exists(path)) return false;
            File.Delete(path);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
