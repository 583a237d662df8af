namespace ThermoLearn.IO;

/// <summary>Writes a file under a temporary name in the same folder and renames it when complete.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder))
            throw new InvalidInputException($"{path}: the folder '{folder}' does not exist.");
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            // Read access too: HDF5 writers seek back and read what they wrote (superblock, object headers).
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                write(stream);
            }
            File.Move(temporary, full, overwrite: true);
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

    private static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
